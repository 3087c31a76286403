// Helpers of the programs in docs/examples.
#pragma once

#include <cstdio>
#include <cstdlib>
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

/// The docs' own test of a mini-batch loop: add() the examples (a batch's
/// `columns`) of each batch the loop trains on, and end_epoch() after each
/// epoch. Unless the epoch held every example 0 … m−1 exactly once, the
/// program prints what went wrong and exits with status 1, which fails the
/// docs check.
class EpochCoverage {
public:
    explicit EpochCoverage(std::size_t m) : seen_(m, 0) {}

    void add(const std::vector<std::size_t>& columns) {
        for (std::size_t j : columns) {
            if (j >= seen_.size()) fail("example " + std::to_string(j) + " is not in the data set");
            if (seen_[j]++) fail("example " + std::to_string(j) + " came twice");
        }
        count_ += columns.size();
    }

    void end_epoch() {
        if (count_ != seen_.size()) {
            fail(std::to_string(count_) + " of the " + std::to_string(seen_.size()) + " examples were trained on");
        }
        seen_.assign(seen_.size(), 0);
        count_ = 0;
        ++epochs_;
    }

private:
    std::vector<unsigned> seen_;
    std::size_t count_ = 0, epochs_ = 0;

    [[noreturn]] void fail(const std::string& what) const {
        std::fprintf(stderr, "epoch %zu does not visit every example once: %s\n", epochs_, what.c_str());
        std::exit(1);
    }
};

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
