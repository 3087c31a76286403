// Symbolic formulas: builders, simplification and rendering.
#include "xgrad/formula.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace xg::sym {

namespace {

Expr make(Kind k, std::vector<Expr> args = {}) {
    auto t = std::make_shared<Term>();
    t->kind = k;
    t->args = std::move(args);
    return t;
}

bool is_number(const Expr& e, double v) { return e->kind == Kind::number && e->number == v; }
bool is_scalar_like(const Expr& e) { return e->kind == Kind::number || e->kind == Kind::symbol; }

}  // namespace

Expr in(std::size_t i) {
    auto t = std::make_shared<Term>();
    t->kind = Kind::input;
    t->index = i;
    return t;
}
Expr out() { return make(Kind::output); }
Expr grad() { return make(Kind::grad); }
Expr num(double v) {
    auto t = std::make_shared<Term>();
    t->kind = Kind::number;
    t->number = v;
    return t;
}
Expr symbol(Spelling s) {
    auto t = std::make_shared<Term>();
    t->kind = Kind::symbol;
    t->text = std::move(s);
    return t;
}
Expr symbol(const std::string& name) { return symbol(Spelling{name, name, name}); }
Expr fn(Spelling name, Expr arg, bool prefix) {
    auto t = std::make_shared<Term>();
    t->kind = Kind::function;
    t->text = std::move(name);
    t->prefix = prefix;
    t->args = {std::move(arg)};
    return t;
}
Expr fn(Spelling name, std::vector<Expr> args) {
    auto t = std::make_shared<Term>();
    t->kind = Kind::function;
    t->text = std::move(name);
    t->args = std::move(args);
    return t;
}
Expr neg(Expr x) { return make(Kind::neg, {std::move(x)}); }
Expr add(Expr x, Expr y) { return make(Kind::add, {std::move(x), std::move(y)}); }
Expr sub(Expr x, Expr y) { return make(Kind::sub, {std::move(x), std::move(y)}); }
Expr scale(Expr s, Expr x) { return make(Kind::scale, {std::move(s), std::move(x)}); }
Expr hadamard(Expr x, Expr y) { return make(Kind::hadamard, {std::move(x), std::move(y)}); }
Expr matmul(Expr x, Expr y) { return make(Kind::matmul, {std::move(x), std::move(y)}); }
Expr div(Expr x, Expr y) { return make(Kind::div, {std::move(x), std::move(y)}); }
Expr pow(Expr x, double p) {
    auto t = make(Kind::pow, {std::move(x)});
    std::const_pointer_cast<Term>(t)->number = p;
    return t;
}
Expr transpose(Expr x) { return make(Kind::transpose, {std::move(x)}); }
Expr var(const std::string& name) {
    auto t = std::make_shared<Term>();
    t->kind = Kind::variable;
    t->text = Spelling{name, name, name};
    return t;
}
Expr m() { return symbol("m"); }

Expr sum_columns(Expr x) {
    return fn({"Σ_columns", "sum({}, axis=1, keepdims=True)", "\\sum_{\\text{columns}}"}, std::move(x), true);
}
Expr sum_rows(Expr x) {
    return fn({"Σ_rows", "sum({}, axis=0, keepdims=True)", "\\sum_{\\text{rows}}"}, std::move(x), true);
}
Expr sum_all(Expr x) {
    return fn({"Σ_all", "sum({}, keepdims=True)", "\\sum_{\\text{all}}"}, std::move(x), true);
}

Expr operator*(Expr x, Expr y) {
    if (is_scalar_like(x)) return scale(std::move(x), std::move(y));
    if (is_scalar_like(y)) return scale(std::move(y), std::move(x));
    return hadamard(std::move(x), std::move(y));
}

bool is_grad(const Expr& e) { return e && e->kind == Kind::grad; }

// ---- rewriting --------------------------------------------------------------

namespace {

Expr rebuild(const Expr& e, std::vector<Expr> args) {
    auto t = std::make_shared<Term>(*e);
    t->args = std::move(args);
    return t;
}

Expr replace(const Expr& e, const Bindings& b) {
    if (e->kind == Kind::input && e->index < b.inputs.size() && b.inputs[e->index]) return b.inputs[e->index];
    if (e->kind == Kind::output && b.output) return b.output;
    if (e->kind == Kind::grad && b.grad) return b.grad;
    if (e->args.empty()) return e;
    std::vector<Expr> a;
    for (const Expr& x : e->args) a.push_back(replace(x, b));
    return rebuild(e, std::move(a));
}

}  // namespace

Expr simplify(const Expr& e) {
    if (e->args.empty()) return e;
    std::vector<Expr> a;
    for (const Expr& x : e->args) a.push_back(simplify(x));
    switch (e->kind) {
        case Kind::hadamard:
        case Kind::matmul:
        case Kind::scale:
            if (is_number(a[0], 1)) return a[1];
            if (is_number(a[1], 1)) return a[0];
            break;
        case Kind::div:
            if (is_number(a[1], 1)) return a[0];
            break;
        case Kind::neg:
            if (a[0]->kind == Kind::neg) return a[0]->args[0];
            break;
        case Kind::add:
            if (a[1]->kind == Kind::neg) return sub(a[0], a[1]->args[0]);
            break;
        default:
            break;
    }
    return rebuild(e, std::move(a));
}

Expr with_unit_grad(const Expr& e) { return bind_placeholders(e, Bindings{{}, nullptr, num(1)}); }

Expr substitute(const Expr& e, const std::vector<Expr>& inputs) {
    return replace(e, Bindings{inputs, nullptr, nullptr});
}

Expr bind_placeholders(const Expr& e, const Bindings& b) { return simplify(replace(e, b)); }

// ---- rendering --------------------------------------------------------------

namespace {

enum Prec { p_add = 40, p_mul = 50, p_neg = 60, p_prefix = 70, p_postfix = 90, p_atom = 100 };

bool is_product_kind(Kind k) { return k == Kind::hadamard || k == Kind::matmul || k == Kind::scale || k == Kind::div; }

int prec(const Expr& e) {
    switch (e->kind) {
        case Kind::add:
        case Kind::sub:
            return p_add;
        case Kind::scale:
        case Kind::hadamard:
        case Kind::matmul:
        case Kind::div:
            return p_mul;
        case Kind::neg:
            // −x ⊙ y is −(x ⊙ y): a negated product binds as the product does,
            // so a / −(b / c) keeps its parentheses.
            if (is_product_kind(e->args[0]->kind)) return p_mul;
            return e->args[0]->kind == Kind::neg ? prec(e->args[0]) : p_neg;
        case Kind::number:
            return e->number < 0 ? p_neg : p_atom;
        case Kind::function:
            return e->prefix ? p_prefix : p_atom;
        case Kind::pow:
        case Kind::transpose:
            return p_postfix;
        default:
            return p_atom;
    }
}

bool is_product(Kind k) { return k == Kind::hadamard || k == Kind::matmul || k == Kind::scale || k == Kind::div; }

struct Renderer {
    const Names& names;
    Style style;

    const char* pick(const char* u, const char* a, const char* l) const {
        return style == Style::unicode ? u : style == Style::ascii ? a : l;
    }
    const std::string& pick(const Spelling& s) const {
        return style == Style::unicode ? s.unicode : style == Style::ascii ? s.ascii : s.latex;
    }

    std::string name(const std::string& n) const {
        if (style != Style::latex) return n;
        // W1 → W_{1}, dZ2 → dZ_{2}; escape underscores.
        std::size_t cut = n.size();
        while (cut > 0 && std::isdigit(static_cast<unsigned char>(n[cut - 1]))) --cut;
        std::string head;
        for (std::size_t i = 0; i < cut; ++i) head += n[i] == '_' ? std::string("\\_") : std::string(1, n[i]);
        if (cut == n.size() || cut == 0) return cut == 0 ? n : head;
        return head + "_{" + n.substr(cut) + "}";
    }

    std::string number(double v) const {
        char buf[32];
        if (std::floor(v) == v && std::fabs(v) < 1e15) {
            std::snprintf(buf, sizeof buf, "%.0f", std::fabs(v));
        } else {
            std::snprintf(buf, sizeof buf, "%g", std::fabs(v));
        }
        return (v < 0 ? std::string(pick("−", "-", "-")) : std::string()) + buf;
    }

    static bool starts_with_minus(const std::string& s) {
        return s.compare(0, 1, "-") == 0 || s.compare(0, std::strlen("−"), "−") == 0;
    }

    std::string paren(const std::string& s) const { return style == Style::latex ? "\\left(" + s + "\\right)" : "(" + s + ")"; }

    // A LaTeX fraction is a block of its own: it needs no parentheses in a
    // product, only under a power or a transpose.
    bool latex_frac(const Expr& e) const { return style == Style::latex && e->kind == Kind::div; }
    int precedence(const Expr& e) const { return latex_frac(e) ? p_prefix : prec(e); }

    // Render `e`, in parentheses when its precedence is below `min`.
    std::string part(const Expr& e, int min) const {
        const std::string s = go(e);
        return precedence(e) < min ? paren(s) : s;
    }

    // An operand of a product: a product of another kind gets parentheses
    // ((W2ᵀ · dZ2) ⊙ (1 − A1²)), so ⊙ and · never mix unmarked.
    // A scalar factor commutes with ⊙ and · (m (P ⊙ Q) = m P ⊙ Q): neither
    // needs parentheses after it.
    std::string factor(const Expr& parent, const Expr& e, bool right) const {
        if (parent->kind == Kind::scale && right && (e->kind == Kind::hadamard || e->kind == Kind::matmul)) {
            return go(e);
        }
        if (is_product(e->kind) && e->kind != parent->kind && e->kind != Kind::scale && !latex_frac(e)) {
            return paren(go(e));
        }
        return part(e, right ? p_mul + 1 : p_mul);
    }

    std::string sup(double p) const {
        if (style == Style::unicode) {
            if (p == 2) return "²";
            if (p == 3) return "³";
            if (p == -1) return "⁻¹";
            return "^" + number(p);
        }
        if (style == Style::latex) return "^{" + number(p) + "}";
        return "^" + (p < 0 ? "(" + number(p) + ")" : number(p));
    }

    // The argument of a template hole ending at `after`: in parentheses when
    // a postfix follows it ("{}[1:3, :]", "{}_{…}") and it is not an atom.
    std::string in_hole(const std::string& f, std::size_t after, const Expr& x) const {
        const bool postfix = after < f.size() && (f[after] == '[' || f[after] == '_' || f[after] == '^');
        return postfix ? part(x, p_atom) : go(x);
    }

    // A template with numbered holes "{0}", "{1}", …: argument k at "{k}".
    std::string numbered_template(const std::string& f, const std::vector<Expr>& a) const {
        std::string s;
        for (std::size_t i = 0; i < f.size();) {
            const std::size_t close = f[i] == '{' ? f.find('}', i) : std::string::npos;
            if (close != std::string::npos && close > i + 1 && close - i <= 3 &&
                std::isdigit(static_cast<unsigned char>(f[i + 1])) &&
                (close == i + 2 || std::isdigit(static_cast<unsigned char>(f[i + 2])))) {
                const std::size_t k = std::stoul(f.substr(i + 1, close - i - 1));
                s += k < a.size() ? in_hole(f, close + 1, a[k]) : "?";
                i = close + 1;
            } else {
                s += f[i++];
            }
        }
        return s;
    }

    std::string go(const Expr& e) const {
        const auto& a = e->args;
        switch (e->kind) {
            case Kind::input:
                return name(e->index < names.inputs.size() ? names.inputs[e->index] : "in" + std::to_string(e->index));
            case Kind::output:
                return name(names.output);
            case Kind::grad:
                return name(names.grad);
            case Kind::number:
                return number(e->number);
            case Kind::symbol:
                return pick(e->text);
            case Kind::variable:
                return name(e->text.unicode);
            case Kind::function: {
                const std::string& f = pick(e->text);
                if (f.find("{0}") != std::string::npos) return numbered_template(f, a);
                const std::size_t hole = f.find("{}");
                if (hole != std::string::npos) return f.substr(0, hole) + in_hole(f, hole + 2, a[0]) + f.substr(hole + 2);
                if (a.size() > 1) {
                    std::string s;
                    for (const Expr& x : a) s += (s.empty() ? "" : ", ") + go(x);
                    return f + paren(s);
                }
                if (e->prefix) {
                    const bool atom = prec(a[0]) >= p_postfix;
                    return f + (atom ? " " + go(a[0]) : paren(go(a[0])));
                }
                return f + paren(go(a[0]));
            }
            case Kind::neg:
                return pick("−", "-", "-") + part(a[0], p_mul);  // −x ⊙ y = −(x ⊙ y)
            case Kind::add:
                return part(a[0], p_add) + " + " + part(a[1], p_add);
            case Kind::sub:
                return part(a[0], p_add) + pick(" − ", " - ", " - ") + part(a[1], p_add + 1);
            case Kind::scale: {
                // s (−x), never s −x, which reads as s − x: a right factor whose
                // text begins with a minus (−x, −1 A ⊙ B, a negative number) is
                // put in parentheses, since juxtaposition has no sign of its own.
                std::string right = factor(e, a[1], true);
                if (style != Style::ascii && starts_with_minus(right)) right = paren(right);
                return (latex_frac(a[0]) ? go(a[0]) : part(a[0], p_postfix)) + pick(" ", " * ", " ") + right;
            }
            case Kind::hadamard:
                return factor(e, a[0], false) + pick(" ⊙ ", " * ", " \\odot ") + factor(e, a[1], true);
            case Kind::matmul:
                return factor(e, a[0], false) + pick(" · ", " @ ", " \\cdot ") + factor(e, a[1], true);
            case Kind::div:
                if (style == Style::latex) return "\\frac{" + go(a[0]) + "}{" + go(a[1]) + "}";
                return factor(e, a[0], false) + " / " + part(a[1], p_mul + 1);
            case Kind::pow:
                return part(a[0], p_atom) + sup(e->number);
            case Kind::transpose:
                return part(a[0], p_atom) + pick("ᵀ", ".T", "^\\top");
        }
        return "?";
    }
};

}  // namespace

std::size_t text_width(const std::string& text) {
    std::size_t w = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(text[i]);
        if ((c & 0xC0) == 0x80) continue;  // a continuation byte
        // U+0300–U+036F is 0xCC 0x80–0xBF or 0xCD 0x80–0xAF.
        const unsigned char next = i + 1 < text.size() ? static_cast<unsigned char>(text[i + 1]) : 0;
        const bool combining = (c == 0xCC && (next & 0xC0) == 0x80) || (c == 0xCD && next >= 0x80 && next <= 0xAF);
        if (!combining) ++w;
    }
    return w;
}

std::string render(const Expr& e, const Names& names, Style style) {
    if (!e) return "";
    return Renderer{names, style}.go(e);
}

}  // namespace xg::sym
