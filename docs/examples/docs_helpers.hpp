// Helpers of the programs in docs/examples.
#pragma once

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include <xgrad/tensor.hpp>

namespace docs {

/// Print "label = [1, 2, 3]" for one row, "label = [[1, 2], [3, 4]]" for more.
inline void print(const char* label, const xg::Matrix<double>& m) {
    const std::size_t rows = m.shape()[0], cols = m.shape()[1];
    std::printf("%s = %s", label, rows > 1 ? "[" : "");
    for (std::size_t i = 0; i < rows; ++i) {
        std::printf("%s[", i ? ", " : "");
        for (std::size_t j = 0; j < cols; ++j) std::printf("%s%g", j ? ", " : "", m(i, j));
        std::printf("]");
    }
    std::printf("%s\n", rows > 1 ? "]" : "");
}

// A program that a page shows in parts: `program NAME` runs one section (the
// output shown under that part of the page), `program` runs them all, each
// after a "== NAME" line (what the test suite runs).

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
