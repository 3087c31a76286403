// The equations a person types, parsed into sym formulas: the notation
// `explain` prints, in ASCII (dZ1 @ X.T) or Unicode (dZ1 · Xᵀ), and the
// lecture's (dW2 = 1/m * dZ2 . A1^T).
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "xgrad/derivation.hpp"

namespace xg {

ParseError::ParseError(std::size_t line, std::size_t column, const std::string& message, const std::string& text)
    : ValueError("line " + std::to_string(line) + ", column " + std::to_string(column) + ": " + message + "\n  " +
                 text + "\n  " + std::string(column > 0 ? column - 1 : 0, ' ') + "^"),
      line_(line),
      column_(column),
      message_(message) {}

namespace {

enum class Tok { end, name, number, plus, minus, times, matmul, divide, caret, transpose, square, cube, inverse,
                 lparen, rparen, comma, equals };

struct Token {
    Tok kind = Tok::end;
    std::size_t pos = 0;  ///< byte offset in the text
    std::size_t len = 0;  ///< bytes
    std::string text;     ///< a name's spelling
    double number = 0;
};

bool ident_start(unsigned char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool ident_char(unsigned char c) { return ident_start(c) || (c >= '0' && c <= '9'); }
bool digit(unsigned char c) { return c >= '0' && c <= '9'; }

/// Multi-byte spellings of operators and of the letters names may start with.
struct Spelled {
    const char* utf8;
    Tok kind;
};
const Spelled symbols[] = {
    {"\xE2\x88\x92", Tok::minus},            // −
    {"\xE2\x8A\x99", Tok::times},            // ⊙
    {"\xE2\x88\x98", Tok::times},            // ∘
    {"\xC2\xB7", Tok::matmul},               // ·
    {"\xE1\xB5\x80", Tok::transpose},        // ᵀ
    {"\xC2\xB2", Tok::square},               // ²
    {"\xC2\xB3", Tok::cube},                 // ³
    {"\xE2\x81\xBB\xC2\xB9", Tok::inverse},  // ⁻¹
};
// Names that begin with a Greek letter or a root sign: Σ_columns, σ, √.
const char* const greek[] = {"\xCE\xA3", "\xCF\x83", "\xE2\x88\x9A"};

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
                while (j < s_.size() && ident_char(static_cast<unsigned char>(s_[j]))) ++j;
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
    std::size_t greek_len(std::size_t i) const {
        for (const char* g : greek) {
            const std::size_t n = std::char_traits<char>::length(g);
            if (s_.compare(i, n, g) == 0) return n;
        }
        return 0;
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

sym::Expr elementwise(const std::string& name, sym::Expr x) {
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
int sum_axis(const std::string& name) {
    static const std::map<std::string, int> known = {
        {"sum_columns", 1}, {"Σ_columns", 1}, {"sum_cols", 1}, {"sum_rows", 0}, {"Σ_rows", 0},
        {"sum_all", 2},     {"Σ_all", 2},     {"Σ", 3},
    };
    const auto it = known.find(name);
    return it == known.end() ? -1 : it->second;
}

sym::Expr summed(int axis, sym::Expr x) {
    switch (axis) {
        case 1: return sym::sum_columns(std::move(x));
        case 0: return sym::sum_rows(std::move(x));
        case 2: return sym::sum_all(std::move(x));
        default: return sym::fn({"Σ", "sum", "\\sum"}, std::move(x), true);
    }
}

bool is_function(const std::string& name) {
    return sum_axis(name) >= 0 || elementwise(name, sym::num(0)) || name == "sum" || name == "transpose" ||
           name == "square";
}

/// True for a formula of numbers and m only (a scalar factor).
bool scalar(const sym::Expr& e) {
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

/// x * y: a scalar factor scales, otherwise the elementwise product.
sym::Expr times(sym::Expr x, sym::Expr y) {
    if (scalar(x)) return sym::scale(std::move(x), std::move(y));
    if (scalar(y)) return sym::scale(std::move(y), std::move(x));
    return sym::hadamard(std::move(x), std::move(y));
}

// ---- the parser -------------------------------------------------------------------

/// Nesting deeper than this is refused (a recursive parser must not overflow the stack).
constexpr unsigned max_depth = 64;

class Parser {
public:
    Parser(const std::string& text, std::size_t line) : lex_(text, line), toks_(lex_.run()) {}

    sym::Expr expression() {
        sym::Expr e = sum();
        expect_end();
        return e;
    }

    TypedEquation equation() {
        const Token& lhs = peek();
        if (lhs.kind != Tok::name || is_function(lhs.text) || lhs.text == "m") {
            fail(lhs, lhs.kind == Tok::name ? "'" + lhs.text + "' cannot be defined: it is a function or the number m"
                                            : "expected the name the equation defines (dZ1 = ...), found " + what(lhs));
        }
        TypedEquation q;
        q.lhs = lhs.text;
        ++k_;
        if (peek().kind != Tok::equals) fail(peek(), "expected '=' after " + q.lhs + ", found " + what(peek()));
        ++k_;
        q.rhs = sum();
        expect_end();
        return q;
    }

private:
    Lexer lex_;
    std::vector<Token> toks_;
    std::size_t k_ = 0;
    unsigned depth_ = 0;

    const Token& peek(std::size_t ahead = 0) const { return toks_[std::min(k_ + ahead, toks_.size() - 1)]; }
    [[noreturn]] void fail(const Token& t, const std::string& what) const { lex_.fail(t.pos, what); }

    static std::string what(const Token& t) {
        switch (t.kind) {
            case Tok::end: return "the end of the line";
            case Tok::name: return "'" + t.text + "'";
            case Tok::number: return "a number";
            case Tok::plus: return "'+'";
            case Tok::minus: return "'-'";
            case Tok::times: return "'*'";
            case Tok::matmul: return "a matrix product";
            case Tok::divide: return "'/'";
            case Tok::caret: return "'^'";
            case Tok::transpose: return "a transpose";
            case Tok::square:
            case Tok::cube:
            case Tok::inverse: return "a power";
            case Tok::lparen: return "'('";
            case Tok::rparen: return "')'";
            case Tok::comma: return "','";
            case Tok::equals: return "'='";
        }
        return "?";
    }

    void expect_end() {
        const Token& t = peek();
        if (t.kind == Tok::end) return;
        if (t.kind == Tok::rparen) fail(t, "')' without a matching '('");
        if (t.kind == Tok::equals) fail(t, "a second '=': write one equation per line");
        fail(t, "expected an operator (+ - * / . ^T) or the end of the line, found " + what(t));
    }

    struct Deeper {
        Parser& p;
        Deeper(Parser& parser, const Token& t) : p(parser) {
            if (++p.depth_ > max_depth) p.fail(t, "the expression is nested too deeply (more than 64 levels)");
        }
        ~Deeper() { --p.depth_; }
    };

    static bool starts_operand(const Token& t) {
        return t.kind == Tok::name || t.kind == Tok::number || t.kind == Tok::lparen;
    }

    // sum := term (('+' | '-') term)*
    sym::Expr sum() {
        sym::Expr e = term();
        while (peek().kind == Tok::plus || peek().kind == Tok::minus) {
            const bool plus = peek().kind == Tok::plus;
            ++k_;
            sym::Expr r = term();
            e = plus ? sym::add(e, r) : sym::sub(e, r);
        }
        return e;
    }

    // term := ('-' | '+') term | product      (−a b is −(a b), as explain prints it)
    sym::Expr term() {
        const Token& t = peek();
        if (t.kind == Tok::minus || t.kind == Tok::plus) {
            Deeper d(*this, t);
            ++k_;
            sym::Expr x = term();
            return t.kind == Tok::minus ? sym::neg(x) : x;
        }
        return product();
    }

    // product := power (('*' | '.' | '/') signed | power)*   (a factor next to another multiplies)
    sym::Expr product() {
        if (!starts_operand(peek())) fail(peek(), "expected a name, a number or '(', found " + what(peek()));
        sym::Expr e = power();
        while (true) {
            const Token& t = peek();
            if (t.kind == Tok::times || t.kind == Tok::matmul || t.kind == Tok::divide) {
                ++k_;
                if (!starts_operand(peek()) && peek().kind != Tok::minus && peek().kind != Tok::plus) {
                    fail(peek(), "expected a name, a number or '(' after " + what(t) + ", found " + what(peek()));
                }
                sym::Expr r = signed_power();
                e = t.kind == Tok::times ? times(e, r) : t.kind == Tok::matmul ? sym::matmul(e, r) : sym::div(e, r);
            } else if (starts_operand(t)) {
                e = times(e, power());
            } else {
                return e;
            }
        }
    }

    // signed := ('-' | '+') signed | power      (the operand after an operator: a * -b)
    sym::Expr signed_power() {
        const Token& t = peek();
        if (t.kind == Tok::minus || t.kind == Tok::plus) {
            Deeper d(*this, t);
            ++k_;
            sym::Expr x = signed_power();
            return t.kind == Tok::minus ? sym::neg(x) : x;
        }
        return power();
    }

    // power := primary ('^T' | '.T' | 'ᵀ' | '^' number | '²' | '³' | '⁻¹')*
    sym::Expr power() {
        sym::Expr e = primary();
        while (true) {
            const Token& t = peek();
            if (t.kind == Tok::transpose) {
                ++k_;
                e = sym::transpose(e);
            } else if (t.kind == Tok::square || t.kind == Tok::cube || t.kind == Tok::inverse) {
                ++k_;
                e = sym::pow(e, t.kind == Tok::square ? 2 : t.kind == Tok::cube ? 3 : -1);
            } else if (t.kind == Tok::caret) {
                ++k_;
                e = exponent(e, t);
            } else {
                return e;
            }
        }
    }

    sym::Expr exponent(sym::Expr base, const Token& caret) {
        const Token& t = peek();
        if (t.kind == Tok::name && t.text == "T") {
            ++k_;
            return sym::transpose(base);
        }
        bool paren = false;
        if (t.kind == Tok::lparen) {
            paren = true;
            ++k_;
        }
        double sign = 1;
        if (peek().kind == Tok::minus) {
            sign = -1;
            ++k_;
        }
        if (peek().kind != Tok::number) {
            fail(peek(), "expected T or a number after '^', found " + what(peek()));
        }
        const double p = sign * peek().number;
        ++k_;
        if (paren) {
            if (peek().kind != Tok::rparen) fail(peek(), "expected ')' to close the exponent, found " + what(peek()));
            ++k_;
        }
        (void)caret;
        return sym::pow(base, p);
    }

    // primary := number | name | function '(' args ')' | sum-name power | '(' sum ')'
    sym::Expr primary() {
        const Token& t = peek();
        Deeper d(*this, t);
        if (t.kind == Tok::number) {
            ++k_;
            return sym::num(t.number);
        }
        if (t.kind == Tok::lparen) {
            ++k_;
            if (peek().kind == Tok::rparen) fail(peek(), "expected an expression inside '()'");
            sym::Expr e = sum();
            if (peek().kind != Tok::rparen) fail(peek(), "expected ')' to close the '(' at column " +
                                                             std::to_string(lex_.column(t.pos)) + ", found " + what(peek()));
            ++k_;
            return e;
        }
        if (t.kind != Tok::name) {
            fail(t, "expected a name, a number or '(', found " + what(t));
        }
        std::string name = t.text;
        ++k_;
        // np.sum, np.tanh …: NumPy's prefix is allowed.
        if (name == "np" && peek().kind == Tok::matmul && peek(1).kind == Tok::name && peek(1).pos == peek().pos + 1 &&
            is_function(peek(1).text)) {
            k_ += 1;
            name = peek().text;
            ++k_;
        }
        if (name == "m") return sym::m();
        // sum x, as explain writes a total in ASCII (sum(x) below).
        if (name == "sum" && peek().kind != Tok::lparen) {
            if (!starts_operand(peek())) fail(peek(), "expected what sum sums, found " + what(peek()));
            return summed(3, power());
        }
        const int axis = sum_axis(name);
        if (axis >= 0) {
            if (!starts_operand(peek())) fail(peek(), "expected what " + name + " sums, found " + what(peek()));
            return summed(axis, power());
        }
        if (!is_function(name)) return sym::var(name);
        if (peek().kind != Tok::lparen) fail(peek(), "expected '(' after the function " + name + ", found " + what(peek()));
        ++k_;
        sym::Expr x = sum();
        sym::Expr r;
        if (name == "sum") {
            r = sum_arguments(x);
        } else {
            if (peek().kind == Tok::comma) fail(peek(), name + " takes one argument");
            r = name == "transpose" ? sym::transpose(x) : name == "square" ? sym::square(x) : elementwise(name, x);
        }
        if (peek().kind != Tok::rparen) fail(peek(), "expected ')' after the argument of " + name + ", found " + what(peek()));
        ++k_;
        return r;
    }

    // sum(x), sum(x, axis=1), sum(x, axis=0, keepdims=True): the dimensions are always kept.
    sym::Expr sum_arguments(sym::Expr x) {
        int axis = 3;  // sum(x): the total, as a loss prints it
        while (peek().kind == Tok::comma) {
            ++k_;
            const Token& key = peek();
            if (key.kind != Tok::name || (key.text != "axis" && key.text != "keepdims")) {
                fail(key, "expected axis=0, axis=1 or keepdims=True in sum(...), found " + what(key));
            }
            ++k_;
            if (peek().kind != Tok::equals) fail(peek(), "expected '=' after " + key.text + ", found " + what(peek()));
            ++k_;
            const Token& v = peek();
            if (key.text == "axis") {
                if (v.kind != Tok::number || (v.number != 0 && v.number != 1)) {
                    fail(v, "expected axis=0 (over the rows) or axis=1 (over the columns), found " + what(v));
                }
                axis = int(v.number) == 1 ? 1 : 0;
            } else if (v.kind != Tok::name || (v.text != "True" && v.text != "true")) {
                fail(v, "expected keepdims=True (a sum keeps its dimensions), found " + what(v));
            }
            ++k_;
            if (key.text == "keepdims" && axis == 3) axis = 2;
        }
        return summed(axis, std::move(x));
    }
};

/// `line` without a # comment and surrounding blanks; `offset` receives where it starts.
std::string trimmed(const std::string& line, std::size_t& offset) {
    std::string s = line.substr(0, line.find('#'));
    std::size_t a = 0, b = s.size();
    while (a < b && (s[a] == ' ' || s[a] == '\t' || s[a] == '\r')) ++a;
    while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r')) --b;
    offset = a;
    return s.substr(a, b - a);
}

}  // namespace

sym::Expr parse_expression(const std::string& text) { return Parser(text, 1).expression(); }

std::vector<TypedEquation> parse_equations(const std::string& text) {
    std::vector<TypedEquation> out;
    std::map<std::string, std::size_t> defined;  // lhs → line
    std::size_t line_no = 0, start = 0;
    while (start <= text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        ++line_no;
        const std::string line = text.substr(start, end - start);
        start = end + 1;
        // Statements separated by ';' (outside a comment).
        const std::string code = line.substr(0, line.find('#'));
        std::size_t s0 = 0;
        while (s0 <= code.size()) {
            std::size_t s1 = code.find(';', s0);
            if (s1 == std::string::npos) s1 = code.size();
            std::size_t off = 0;
            const std::string stmt = trimmed(code.substr(s0, s1 - s0), off);
            if (!stmt.empty()) {
                TypedEquation q;
                try {
                    q = Parser(stmt, line_no).equation();
                } catch (const ParseError& e) {
                    // Report the column in the whole line, and show the whole line.
                    const std::size_t before = Lexer(line, line_no).column(s0 + off) - 1;
                    throw ParseError(line_no, e.column() + before, e.message(), line);
                }
                q.text = stmt;
                q.line = line_no;
                const auto it = defined.find(q.lhs);
                if (it != defined.end()) {
                    throw ParseError(line_no, Lexer(line, line_no).column(s0 + off),
                                     q.lhs + " is defined twice (first on line " + std::to_string(it->second) + ")", line);
                }
                defined[q.lhs] = line_no;
                out.push_back(std::move(q));
            }
            if (s1 == code.size()) break;
            s0 = s1 + 1;
        }
        if (end == text.size()) break;
    }
    return out;
}

}  // namespace xg
