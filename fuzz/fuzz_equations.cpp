// libFuzzer harness: bytes are the text of typed equations. parse_equations
// and parse_expression may refuse them only with xg::ParseError (a position
// inside the text, a message); what they accept must render, in Unicode and
// in ASCII, as text that reads back to a formula of the same value (every
// name a random number, matrices 1 × 1: the grouping the text shows is the
// one parsed; a formula 32 or more levels deep may print beyond the
// parser's 64 levels), and
// check_derivation on the lecture's two-layer network must give a report for
// it (a short text) — never a crash, another exception, a sanitizer report
// or a leak. fuzz/make_corpus.py writes the seeds of fuzz/corpus/equations.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <xgrad/xgrad.hpp>

#include "../examples/derive_networks.hpp"

namespace {

[[noreturn]] void broken(const char* what, const std::string& detail) {
    std::fprintf(stderr, "invariant broken: %s\n%s\n", what, detail.c_str());
    std::abort();
}

std::size_t chars(const std::string& s) {
    std::size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
}

void check_error(const xg::ParseError& e, const std::string& text) {
    if (e.line() == 0 || e.column() == 0) broken("a ParseError without a position", e.what());
    if (e.message().empty()) broken("a ParseError without a message", e.what());
    // The column lies on the line it names (or just past its end).
    std::size_t start = 0;
    for (std::size_t l = 1; l < e.line(); ++l) {
        start = text.find('\n', start);
        if (start == std::string::npos) broken("a ParseError on a line the text does not have", e.what());
        ++start;
    }
    const std::size_t end = std::min(text.find('\n', start), text.size());
    if (e.column() > chars(text.substr(start, end - start)) + 1) broken("a ParseError column past the line", e.what());
}

double value_of(const xg::sym::Expr& e, double& largest);

/// A number as the renderer prints it: an integer below 1e15 exactly, any
/// other to 6 significant digits (%g).
double shown(double v) {
    if (std::floor(v) == v && std::fabs(v) < 1e15) return v;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return std::strtod(buf, nullptr);
}

/// The value of `e` with every matrix 1 × 1: a name's value comes from its
/// spelling, m is 3, a transpose changes nothing, a sum sums one number;
/// numbers, exponents among them, as printed. `largest` receives the largest magnitude on the way.
double value(const xg::sym::Expr& e, double& largest) {
    const double v = value_of(e, largest);
    if (!(std::fabs(v) <= largest)) largest = std::isnan(v) ? INFINITY : std::fabs(v);
    return v;
}

double value_of(const xg::sym::Expr& e, double& largest) {
    using xg::sym::Kind;
    const auto arg = [&](std::size_t k) { return value(e->args[k], largest); };
    switch (e->kind) {
        case Kind::number: return shown(e->number);
        case Kind::symbol: return 3;
        case Kind::variable: {
            std::uint64_t h = 1469598103934665603ull;
            for (unsigned char c : e->text.unicode) h = (h ^ c) * 1099511628211ull;
            return 0.5 + double(h % 1000) / 666.0;  // in [0.5, 2]
        }
        case Kind::function: {
            const std::string& f = e->text.unicode;
            const double x = arg(0);
            if (f == "tanh") return std::tanh(x);
            if (f == "σ") return 1 / (1 + std::exp(-x));
            if (f == "relu") return x > 0 ? x : 0;
            if (f == "step") return x > 0 ? 1 : 0;
            if (f == "exp") return std::exp(x);
            if (f == "log") return std::log(x);
            if (f == "√") return std::sqrt(x);
            if (f == "abs") return std::fabs(x);
            if (f == "sign") return x > 0 ? 1 : x < 0 ? -1 : 0;
            if (f == "softplus") return std::log1p(std::exp(x));
            if (f == "softmax") return 1;
            return x;  // the sums, of one number
        }
        case Kind::neg: return -arg(0);
        case Kind::add: return arg(0) + arg(1);
        case Kind::sub: return arg(0) - arg(1);
        case Kind::scale:
        case Kind::hadamard:
        case Kind::matmul: return arg(0) * arg(1);
        case Kind::div: return arg(0) / arg(1);
        case Kind::pow: return std::pow(arg(0), shown(e->number));  // an exponent prints as a number
        case Kind::transpose: return arg(0);
        default: broken("a placeholder in a parsed formula", "");
    }
}

/// The same value up to the rounding of products grouped otherwise; nothing
/// is decided when a value on the way is large (a regrouped product then
/// differs in absolute terms), infinite or NaN.
bool same(const xg::sym::Expr& e, const xg::sym::Expr& back) {
    double la = 0, lb = 0;
    const double a = value(e, la), b = value(back, lb);
    if (std::max(la, lb) > 1e12) return true;
    return std::fabs(a - b) <= 1e-9 * std::max({std::fabs(a), std::fabs(b), 1.0});
}

/// The number of nodes on the longest path from the root of `e` to a leaf.
std::size_t depth(const xg::sym::Expr& e) {
    std::size_t d = 0;
    for (const xg::sym::Expr& a : e->args) d = std::max(d, depth(a));
    return d + 1;
}

void round_trip(const xg::sym::Expr& e, xg::sym::Style style) {
    const xg::sym::Names none;
    const std::string r1 = xg::sym::render(e, none, style);
    try {
        const xg::sym::Expr back = xg::parse_expression(r1);
        if (!same(e, back)) {
            broken("a rendered formula reads back with another value", r1 + "\n" + xg::sym::render(back, none, style));
        }
    } catch (const xg::ParseError& p) {
        // The parser refuses text nested more than 64 levels (an operand, a
        // pair of parentheses and a sign each count one). A rendering spends
        // at most two levels on each node of a path through the formula
        // (parentheses and a sign), three on its leaf, so it may be refused
        // only for a formula of 32 levels or more: a long chain such as
        // a ⊙ b · c ⊙ d · … parses flat, but prints with one pair of
        // parentheses per link.
        const bool too_deep = std::string(p.what()).find("nested too deeply") != std::string::npos;
        if (!too_deep || depth(e) < 32) broken("a rendered formula does not parse", r1 + "\n" + p.what());
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        (void)xg::parse_expression(text);
    } catch (const xg::ParseError& e) {
        check_error(e, text);
    }
    std::vector<xg::TypedEquation> eqs;
    try {
        eqs = xg::parse_equations(text);
    } catch (const xg::ParseError& e) {
        check_error(e, text);
        return 0;
    }
    for (const xg::TypedEquation& q : eqs) {
        round_trip(q.rhs, xg::sym::Style::unicode);
        round_trip(q.rhs, xg::sym::Style::ascii);
    }
    if (!eqs.empty() && size <= 512) {
        xg::DerivationOptions o;
        o.probes = 2;
        o.convention = size % 2 ? xg::Convention::lecture : xg::Convention::autodiff;
        const xg::DerivationReport r = xg::check_derivation(derive_networks::two_layer, eqs, o);
        if (r.checks.size() != eqs.size()) broken("a report without one check per equation", r.str());
        if (r.ok() != (r.first_wrong() == nullptr && r.str().find("DIFFERS") == std::string::npos &&
                       r.str().find("CANNOT") == std::string::npos && r.str().find("follows") == std::string::npos)) {
            broken("ok() disagrees with the report", r.str());
        }
    }
    return 0;
}
