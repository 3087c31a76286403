// The notation of typed equations: its tokens (the lexer) and the functions
// it knows. Internal to the library: read by lib/derivation_parse.cpp.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "xgrad/derivation.hpp"

namespace xg::detail {

enum class Tok { end, name, number, plus, minus, times, matmul, divide, caret, transpose, square, cube, inverse,
                 lparen, rparen, comma, equals };

struct Token {
    Tok kind = Tok::end;
    std::size_t pos = 0;  ///< byte offset in the text
    std::size_t len = 0;  ///< bytes
    std::string text;     ///< a name's spelling
    double number = 0;
};

inline bool ident_start(unsigned char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
inline bool ident_char(unsigned char c) { return ident_start(c) || (c >= '0' && c <= '9'); }
inline bool digit(unsigned char c) { return c >= '0' && c <= '9'; }

/// Multi-byte spellings of operators and of the letters names may start with.
struct Spelled {
    const char* utf8;
    Tok kind;
};
inline const Spelled symbols[] = {
    {"\xE2\x88\x92", Tok::minus},            // −
    {"\xE2\x8A\x99", Tok::times},            // ⊙
    {"\xE2\x88\x98", Tok::times},            // ∘
    {"\xC2\xB7", Tok::matmul},               // ·
    {"\xE1\xB5\x80", Tok::transpose},        // ᵀ
    {"\xC2\xB2", Tok::square},               // ²
    {"\xC2\xB3", Tok::cube},                 // ³
    {"\xE2\x81\xBB\xC2\xB9", Tok::inverse},  // ⁻¹
};
/// Bytes of a Greek letter (Α … Ω, α … ω: 2 bytes) starting at `i`, else 0.
/// Names may begin with one (Σ_columns, σ, γ1, μ1) and contain them (dγ1).
inline std::size_t greek_letter(const std::string& s, std::size_t i) {
    if (i + 1 >= s.size()) return 0;
    const unsigned char a = static_cast<unsigned char>(s[i]), b = static_cast<unsigned char>(s[i + 1]);
    const bool capital = a == 0xCE && b >= 0x91 && b <= 0xA9 && b != 0xA2;
    const bool small = (a == 0xCE && b >= 0xB1 && b <= 0xBF) || (a == 0xCF && b >= 0x80 && b <= 0x89);
    return capital || small ? 2 : 0;
}
/// Bytes of a combining hat or tilde (U+0302, U+0303) at `i`, else 0: a name
/// carries them after a letter (X̂1, dZ̃1), as explain prints batch_norm's X̂.
inline std::size_t combining_mark(const std::string& s, std::size_t i) {
    if (i + 1 >= s.size() || static_cast<unsigned char>(s[i]) != 0xCC) return 0;
    const unsigned char b = static_cast<unsigned char>(s[i + 1]);
    return b == 0x82 || b == 0x83 ? 2 : 0;
}

/// The text as tokens; ParseError (column of the character) for anything else.
class Lexer {
public:
    Lexer(const std::string& s, std::size_t line) : s_(s), line_(line) {}

    [[noreturn]] void fail(std::size_t pos, const std::string& what) const {
        throw ParseError(line_, column(pos), what, s_);
    }
    std::size_t column(std::size_t pos) const {
        std::size_t c = 1;
        for (std::size_t i = 0; i < pos && i < s_.size(); ++i) c += (static_cast<unsigned char>(s_[i]) & 0xC0) != 0x80;
        return c;
    }

    std::vector<Token> run() {
        std::vector<Token> out;
        std::size_t i = 0;
        while (true) {
            while (i < s_.size() && (s_[i] == ' ' || s_[i] == '\t' || s_[i] == '\r')) ++i;
            Token t;
            t.pos = i;
            if (i >= s_.size()) {
                out.push_back(t);
                return out;
            }
            const unsigned char c = static_cast<unsigned char>(s_[i]);
            if (ident_start(c) || starts_greek(i)) {
                std::size_t j = i + greek_len(i);
                if (j == i) ++j;
                const bool root = greek_len(i) == 3;  // √ stands alone: √var1 is √(var1)
                while (j < s_.size() && !root) {
                    if (ident_char(static_cast<unsigned char>(s_[j]))) ++j;
                    else if (const std::size_t n = greek_letter(s_, j) + combining_mark(s_, j)) j += n;
                    else break;
                }
                t.kind = Tok::name;
                t.text = s_.substr(i, j - i);
            } else if (digit(c) || (c == '.' && i + 1 < s_.size() && digit(static_cast<unsigned char>(s_[i + 1])))) {
                std::size_t j = i;
                while (j < s_.size() && digit(static_cast<unsigned char>(s_[j]))) ++j;
                if (j < s_.size() && s_[j] == '.' && !(j + 1 < s_.size() && s_[j + 1] == 'T' &&
                                                       !(j + 2 < s_.size() && ident_char(static_cast<unsigned char>(s_[j + 2]))))) {
                    ++j;
                    while (j < s_.size() && digit(static_cast<unsigned char>(s_[j]))) ++j;
                }
                if (j < s_.size() && (s_[j] == 'e' || s_[j] == 'E')) {
                    std::size_t k = j + 1;
                    if (k < s_.size() && (s_[k] == '+' || s_[k] == '-')) ++k;
                    if (k < s_.size() && digit(static_cast<unsigned char>(s_[k]))) {
                        j = k;
                        while (j < s_.size() && digit(static_cast<unsigned char>(s_[j]))) ++j;
                    }
                }
                t.kind = Tok::number;
                t.len = j - i;
                const auto r = std::from_chars(s_.data() + i, s_.data() + j, t.number);
                if (r.ec == std::errc::result_out_of_range) {
                    // Too small for a double reads as 0; too large is an error.
                    const std::string n = s_.substr(i, j - i);
                    const bool tiny = n.find("e-") != std::string::npos || n.find("E-") != std::string::npos ||
                                      n[0] == '.' || n.rfind("0.", 0) == 0;
                    if (!tiny) fail(i, "the number " + n + " is out of range");
                    t.number = 0;
                } else if (r.ec != std::errc() || r.ptr != s_.data() + j) {
                    fail(i, "cannot read the number " + s_.substr(i, j - i));
                }
            } else if (c == '.' && i + 1 < s_.size() && s_[i + 1] == 'T' &&
                       !(i + 2 < s_.size() && ident_char(static_cast<unsigned char>(s_[i + 2])))) {
                t.kind = Tok::transpose;  // X.T
                t.len = 2;
            } else if (!single(c, t.kind)) {
                std::size_t len = 0;
                for (const Spelled& sp : symbols) {
                    const std::size_t n = std::char_traits<char>::length(sp.utf8);
                    if (s_.compare(i, n, sp.utf8) == 0) {
                        t.kind = sp.kind;
                        len = n;
                        break;
                    }
                }
                if (len == 0) fail(i, "unexpected character " + character(i));
                t.len = len;
            }
            if (t.len == 0) t.len = t.kind == Tok::name ? t.text.size() : 1;
            i += t.len;
            out.push_back(t);
        }
    }

    /// The character at byte `i` as text, quoted: 'x', or its UTF-8 sequence.
    std::string character(std::size_t i) const {
        std::size_t n = 1;
        while (i + n < s_.size() && (static_cast<unsigned char>(s_[i + n]) & 0xC0) == 0x80 && n < 4) ++n;
        const unsigned char c = static_cast<unsigned char>(s_[i]);
        if (c < 0x20 || c == 0x7F) {
            char buf[16];
            std::snprintf(buf, sizeof buf, "\\x%02X", unsigned(c));
            return buf;
        }
        return "'" + s_.substr(i, n) + "'";
    }

private:
    const std::string& s_;
    std::size_t line_;

    bool starts_greek(std::size_t i) const { return greek_len(i) > 0; }
    /// A name's first letter when it is not ASCII: a Greek letter, or the root sign √.
    std::size_t greek_len(std::size_t i) const {
        if (const std::size_t n = greek_letter(s_, i)) return n;
        return s_.compare(i, 3, "\xE2\x88\x9A") == 0 ? 3 : 0;
    }
    static bool single(unsigned char c, Tok& k) {
        switch (c) {
            case '+': k = Tok::plus; return true;
            case '-': k = Tok::minus; return true;
            case '*': k = Tok::times; return true;
            case '@': k = Tok::matmul; return true;
            case '.': k = Tok::matmul; return true;
            case '/': k = Tok::divide; return true;
            case '^': k = Tok::caret; return true;
            case '(': k = Tok::lparen; return true;
            case ')': k = Tok::rparen; return true;
            case ',': k = Tok::comma; return true;
            case '=': k = Tok::equals; return true;
            default: return false;
        }
    }
};

// ---- the functions the notation knows ------------------------------------------

inline sym::Expr elementwise(const std::string& name, sym::Expr x) {
    static const std::map<std::string, sym::Spelling> known = {
        {"tanh", {"tanh", "tanh", "\\tanh"}},
        {"sigmoid", {"σ", "sigmoid", "\\sigma"}},
        {"σ", {"σ", "sigmoid", "\\sigma"}},
        {"relu", {"relu", "relu", "\\operatorname{relu}"}},
        {"step", {"step", "step", "\\operatorname{step}"}},
        {"exp", {"exp", "exp", "\\exp"}},
        {"log", {"log", "log", "\\log"}},
        {"sqrt", {"√", "sqrt", "\\operatorname{sqrt}"}},
        {"√", {"√", "sqrt", "\\operatorname{sqrt}"}},
        {"abs", {"abs", "abs", "\\operatorname{abs}"}},
        {"sign", {"sign", "sign", "\\operatorname{sign}"}},
        {"softplus", {"softplus", "softplus", "\\operatorname{softplus}"}},
        {"softmax", {"softmax", "softmax", "\\operatorname{softmax}"}},
    };
    const auto it = known.find(name);
    return it == known.end() ? nullptr : sym::fn(it->second, std::move(x));
}

/// The sums, by spelling: 1 over the columns, 0 over the rows, 2 over
/// everything (keepdims), 3 the total Σ(…) a loss prints.
inline int sum_axis(const std::string& name) {
    static const std::map<std::string, int> known = {
        {"sum_columns", 1}, {"Σ_columns", 1}, {"sum_cols", 1}, {"sum_rows", 0}, {"Σ_rows", 0},
        {"sum_all", 2},     {"Σ_all", 2},     {"Σ", 3},
    };
    const auto it = known.find(name);
    return it == known.end() ? -1 : it->second;
}

inline sym::Expr summed(int axis, sym::Expr x) {
    switch (axis) {
        case 1: return sym::sum_columns(std::move(x));
        case 0: return sym::sum_rows(std::move(x));
        case 2: return sym::sum_all(std::move(x));
        default: return sym::fn({"Σ", "sum", "\\sum"}, std::move(x), true);
    }
}

inline bool is_function(const std::string& name) {
    return sum_axis(name) >= 0 || elementwise(name, sym::num(0)) || name == "sum" || name == "transpose" ||
           name == "square";
}

/// True for a formula of numbers and m only (a scalar factor).
inline bool scalar(const sym::Expr& e) {
    using sym::Kind;
    switch (e->kind) {
        case Kind::number:
        case Kind::symbol:
            return true;
        case Kind::neg:
        case Kind::add:
        case Kind::sub:
        case Kind::scale:
        case Kind::hadamard:
        case Kind::div:
        case Kind::pow:
            for (const sym::Expr& a : e->args)
                if (!scalar(a)) return false;
            return true;
        default:
            return false;
    }
}

/// s x, written −(s y) when x = −y: a scale prints as "s x", and "2 −y" would read as 2 − y.
inline sym::Expr scaled(sym::Expr s, sym::Expr x) {
    if (x->kind == sym::Kind::neg) return sym::neg(scaled(std::move(s), x->args[0]));
    return sym::scale(std::move(s), std::move(x));
}

/// x * y: a scalar factor scales, otherwise the elementwise product.
inline sym::Expr times(sym::Expr x, sym::Expr y) {
    if (scalar(x)) return scaled(std::move(x), std::move(y));
    if (scalar(y)) return scaled(std::move(y), std::move(x));
    return sym::hadamard(std::move(x), std::move(y));
}

}  // namespace xg::detail
