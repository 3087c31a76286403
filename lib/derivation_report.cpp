// The text of a DerivationReport.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>

#include "derivation_impl.hpp"

namespace xg {

namespace {

/// "sizes 3,2,4,1 and m = 5"; on one graph, "its own values" or "random values (draw 3)".
std::string probe_text(const DerivationProbe& p) {
    if (p.sizes.empty()) return p.seed == 0 ? "its present values" : "random values (draw " + std::to_string(p.seed) + ")";
    std::string s = "sizes ";
    for (std::size_t k = 0; k < p.sizes.size(); ++k) s += (k ? "," : "") + std::to_string(p.sizes[k]);
    return s + " and m = " + std::to_string(p.examples);
}

std::string fmt(const char* f, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}

}  // namespace

bool DerivationReport::ok() const {
    return std::all_of(checks.begin(), checks.end(), [](const EquationCheck& c) { return c.verdict == Verdict::agrees; });
}

const EquationCheck* DerivationReport::first_wrong() const { return cause < checks.size() ? &checks[cause] : nullptr; }

std::string DerivationReport::str() const {
    std::size_t w = 0;
    for (const EquationCheck& c : checks) w = std::max(w, sym::text_width(c.equation.text));
    std::size_t right = 0;
    for (const EquationCheck& c : checks) right += c.verdict == Verdict::agrees;
    std::string s = std::to_string(right) + " of " + std::to_string(checks.size()) + " equations agree with the reverse sweep (" +
                    (options.convention == Convention::lecture ? "the lecture's convention: dZ = m ∂J/∂Z, dW = ∂J/∂W"
                                                               : "xgrad's convention: dX = ∂J/∂X") +
                    "; " + std::to_string(probes.size()) + " probes)\n";
    for (std::size_t k = 0; k < checks.size(); ++k) {
        const EquationCheck& c = checks[k];
        s += "  " + c.equation.text + std::string(w - sym::text_width(c.equation.text) + 3, ' ');
        switch (c.verdict) {
            case Verdict::agrees: s += "agrees"; break;
            case Verdict::differs: s += "DIFFERS"; break;
            case Verdict::cannot_check: s += "CANNOT BE CHECKED"; break;
            case Verdict::follows: {
                s += "follows from ";
                for (std::size_t j = 0; j < c.reads_wrong.size(); ++j) s += (j ? ", " : "") + c.reads_wrong[j];
                break;
            }
        }
        if (k == cause) s += "  <- the first wrong equation";
        s += "\n";
    }
    for (const EquationCheck& c : checks) {
        if (c.verdict == Verdict::agrees || c.verdict == Verdict::follows) continue;
        s += "\n" + c.equation.lhs + " (line " + std::to_string(c.equation.line) + "): ";
        // The probe, where one was evaluated (not for a name that is unknown or has no gradient).
        const bool evaluated = c.verdict == Verdict::differs || std::isinf(c.max_rel_diff);
        const std::string where = evaluated && c.probe < probes.size() ? probe_text(probes[c.probe]) : "";
        if (c.verdict == Verdict::differs) {
            s += "differs by " + fmt("%.3g", c.max_rel_diff) + " (relative) at (" + std::to_string(c.row) + ", " +
                 std::to_string(c.col) + ") with " + where + ": yours " + fmt("%.6g", c.yours) + ", the engine's " +
                 fmt("%.6g", c.engine) + "\n";
        } else {
            s += "cannot be checked: " + c.problem + (where.empty() ? "" : " (with " + where + ")") + "\n";
        }
        if (!c.hint.empty()) s += "  hint: " + c.hint + "\n";
        if (!c.engine_equation.empty()) s += "  xgrad: " + c.engine_equation + "\n";
    }
    return s;
}

std::ostream& operator<<(std::ostream& os, const DerivationReport& r) { return os << r.str(); }
}  // namespace xg
