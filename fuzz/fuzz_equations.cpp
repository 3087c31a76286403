// libFuzzer harness: bytes are the text of typed equations. parse_equations
// and parse_expression may refuse them only with xg::ParseError (a position
// inside the text, a message); what they accept must render and read back
// to the same text (after one round, which settles spellings), and
// check_derivation on the lecture's two-layer network must give a report for
// it (a short text) — never a crash, another exception, a sanitizer report
// or a leak. fuzz/make_corpus.py writes the seeds of fuzz/corpus/equations.
#include <algorithm>
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

void round_trip(const xg::sym::Expr& e, xg::sym::Style style) {
    const xg::sym::Names none;
    const std::string r1 = xg::sym::render(e, none, style);
    try {
        const std::string r2 = xg::sym::render(xg::parse_expression(r1), none, style);
        const std::string r3 = xg::sym::render(xg::parse_expression(r2), none, style);
        if (r2 != r3) broken("a rendered formula does not read back as itself", r1 + "\n" + r2 + "\n" + r3);
    } catch (const xg::ParseError& p) {
        broken("a rendered formula does not parse", r1 + "\n" + p.what());
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
