// Prints the bad-input table of docs/reliability.md: each mistake tried, the
// exception it met and its message (the scratch folder written DIR). Exits
// with 1 when a case does not meet its typed error, or damages the graph or
// the files. The cases live in tests/bad_input_table.hpp, shared with the
// test suite.
#include <cstdio>
#include <string>

#include "bad_input_table.hpp"

int main() {
    using namespace xgt::bad_input;
    const std::vector<Case<double>> table = cases<double>();
    const std::vector<Result> results = run_all(table);
    std::size_t passed = 0, gaps = 0, failed = 0;
    std::string area;
    for (std::size_t k = 0; k < table.size(); ++k) {
        const Case<double>& c = table[k];
        const Result& r = results[k];
        if (c.area != area) {
            area = c.area;
            std::printf("%s%s\n", k ? "\n" : "", area.c_str());
        }
        std::printf("%3zu. %s\n", k + 1, c.what.c_str());
        if (!c.gap.empty()) {
            ++gaps;
            std::printf("     KNOWN GAP (should be %s): %s\n", name_of(c.expect), c.gap.c_str());
            if (r.ok()) ++failed;  // a gap that closed: the table must say so
            continue;
        }
        std::printf("     %s%s: %s\n", r.thrown.c_str(), c.after == After::rerun ? " (in the replay)" : "",
                    r.message.c_str());
        if (r.ok()) {
            ++passed;
        } else {
            ++failed;
            std::printf("     FAILED: expected %s; %s\n", name_of(c.expect), r.damage.c_str());
        }
    }
    std::printf("\n%zu cases: %zu typed errors naming what they must, nothing damaged; %zu known gaps\n",
                table.size() - gaps, passed, gaps);
    return failed ? 1 : 0;
}
