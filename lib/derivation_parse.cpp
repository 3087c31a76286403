// The equations a person types, parsed into sym formulas: the notation
// `explain` prints, in ASCII (dZ1 @ X.T) or Unicode (dZ1 · Xᵀ), and the
// lecture's (dW2 = 1/m * dZ2 . A1^T).
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "derivation_notation.hpp"

namespace xg {

ParseError::ParseError(std::size_t line, std::size_t column, const std::string& message, const std::string& text)
    : ValueError("line " + std::to_string(line) + ", column " + std::to_string(column) + ": " + message + "\n  " +
                 text + "\n  " + std::string(column > 0 ? column - 1 : 0, ' ') + "^"),
      line_(line),
      column_(column),
      message_(message) {}

namespace {

using namespace detail;

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
        // √x, as a root is written by hand: the root of the factor after it.
        if (name == "√" && peek().kind != Tok::lparen) {
            if (!starts_operand(peek())) fail(peek(), "expected what √ takes the root of, found " + what(peek()));
            return elementwise(name, power());
        }
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
