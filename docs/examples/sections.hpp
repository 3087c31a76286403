// Programs of docs/examples that a page shows in parts: `program NAME` runs
// one section (the output shown under that part of the page), `program` runs
// them all, each after a "== NAME" line (what the test suite runs).
#pragma once

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace docs {

using Section = std::pair<const char*, void (*)()>;

inline int run_sections(int argc, char** argv, const std::vector<Section>& sections) {
    const std::string only = argc > 1 ? argv[1] : "";
    bool ran = false;
    for (const auto& [name, run] : sections) {
        if (!only.empty() && only != name) continue;
        if (only.empty()) std::printf("== %s\n", name);
        run();
        ran = true;
    }
    if (!ran) {
        std::fprintf(stderr, "unknown section '%s'; the sections are:", only.c_str());
        for (const auto& s : sections) std::fprintf(stderr, " %s", s.first);
        std::fprintf(stderr, "\n");
        return 2;
    }
    return 0;
}

}  // namespace docs
