// Checking a person's own derivation: the parser of typed equations (every
// notation explain prints, and its errors), and check_derivation on the
// networks of examples/derive — the right equations agree, and each typical
// mistake is found in the right line with the right diagnosis.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <xgrad/xgrad.hpp>

#include "../examples/derive_networks.hpp"

namespace dn = derive_networks;
using xg::Mistake;
using xg::Verdict;

namespace {

std::string uni(const xg::sym::Expr& e) { return xg::sym::render(e, xg::sym::Names{}); }
std::string uni(const std::string& text) { return uni(xg::parse_expression(text)); }

const char* const lecture_six =
    "dZ2 = A2 - Y\n"
    "dW2 = 1/m * dZ2 . A1^T\n"
    "db2 = 1/m * sum_columns(dZ2)\n"
    "dZ1 = (W2^T . dZ2) * (1 - A1^2)\n"
    "dW1 = 1/m * dZ1 . X^T\n"
    "db1 = 1/m * sum_columns(dZ1)\n";

/// `base` with the equation whose left-hand side is `lhs` replaced by `line`.
std::string replaced(const std::string& base, const std::string& lhs, const std::string& line) {
    std::string out;
    std::size_t start = 0;
    while (start < base.size()) {
        std::size_t end = base.find('\n', start);
        if (end == std::string::npos) end = base.size();
        const std::string l = base.substr(start, end - start);
        out += (l.rfind(lhs + " =", 0) == 0 ? line : l) + "\n";
        start = end + 1;
    }
    return out;
}

const xg::EquationCheck& check_of(const xg::DerivationReport& r, const std::string& lhs) {
    for (const xg::EquationCheck& c : r.checks) {
        if (c.equation.lhs == lhs) return c;
    }
    FAIL("no check for " << lhs);
    return r.checks.front();
}

struct Variant {
    const char* what;
    const char* lhs;
    const char* line;
    Mistake mistake;
    const char* hint;  ///< a part of the hint
};

/// Every variant is reported at its own line as the first wrong equation,
/// with the expected kind of mistake and hint; equations in sweep order before
/// it still agree, and later ones are right or follow from it.
void check_variants(const xg::NetworkBuilder& build, const std::string& right, const std::vector<Variant>& variants) {
    const xg::DerivationReport ok = xg::check_derivation(build, xg::parse_equations(right));
    INFO(ok.str());
    REQUIRE(ok.ok());
    for (const Variant& v : variants) {
        const xg::DerivationReport r = xg::check_derivation(build, xg::parse_equations(replaced(right, v.lhs, v.line)));
        INFO(v.what << "\n" << r.str());
        REQUIRE(r.first_wrong() != nullptr);
        const xg::EquationCheck& c = *r.first_wrong();
        CHECK(c.equation.lhs == v.lhs);
        CHECK((c.verdict == Verdict::differs || c.verdict == Verdict::cannot_check));
        CHECK(c.mistake == v.mistake);
        CHECK(c.hint.find(v.hint) != std::string::npos);
        CHECK(!c.engine_equation.empty());
        for (std::size_t k = 0; k < r.checks.size(); ++k) {
            if (k < r.cause) CHECK(r.checks[k].verdict == Verdict::agrees);
            if (k > r.cause) {
                CHECK((r.checks[k].verdict == Verdict::agrees || r.checks[k].verdict == Verdict::follows));
            }
            if (r.checks[k].verdict == Verdict::follows) {
                CHECK(r.checks[k].reads_wrong == std::vector<std::string>{v.lhs});
            }
        }
    }
}

}  // namespace

// ---- the parser ----------------------------------------------------------------------

TEST_CASE("parse: the lecture's six equations as typed") {
    const std::vector<xg::TypedEquation> eqs = xg::parse_equations(lecture_six);
    REQUIRE(eqs.size() == 6);
    const char* lhs[] = {"dZ2", "dW2", "db2", "dZ1", "dW1", "db1"};
    const char* rhs[] = {"A2 − Y", "(1 / m) dZ2 · A1ᵀ", "(1 / m) Σ_columns dZ2", "(W2ᵀ · dZ2) ⊙ (1 − A1²)",
                         "(1 / m) dZ1 · Xᵀ", "(1 / m) Σ_columns dZ1"};
    for (std::size_t k = 0; k < 6; ++k) {
        CHECK(eqs[k].lhs == lhs[k]);
        CHECK(uni(eqs[k].rhs) == rhs[k]);
        CHECK(eqs[k].line == k + 1);
    }
    CHECK(eqs[1].text == "dW2 = 1/m * dZ2 . A1^T");
}

TEST_CASE("parse: every equation explain prints reads back as itself, in Unicode and ASCII") {
    for (const dn::Network& net : dn::networks()) {
        xg::DerivationProbe p;
        p.examples = 3;
        p.sizes = {2, 3, 2, 2};
        const xg::DerivationNetwork n = net.build(p);
        const xg::Explanation x = xg::derive(n.loss);
        std::string forward[2];  // Unicode, ASCII
        for (const auto* list : {&x.forward, &x.backward}) {
            for (const xg::Equation& q : *list) {
                for (xg::sym::Style style : {xg::sym::Style::unicode, xg::sym::Style::ascii}) {
                    const std::string text = xg::sym::render(q.rhs, xg::sym::Names{}, style);
                    INFO(std::string(net.name) << ": " << q.lhs << " = " << text);
                    const std::string back = xg::sym::render(xg::parse_expression(text), xg::sym::Names{}, style);
                    if (q.lhs == "Z̃1") {
                        // batch_norm prints γ1 ⊙ (Z1 − μ1) / σ1 + β1 (the division a template of the op,
                        // so that the product needs no parentheses); it reads back as the division of
                        // the product, the same value (checked below), which prints with them.
                        CHECK(back == (style == xg::sym::Style::unicode ? "(γ1 ⊙ (Z1 − μ1)) / σ1 + β1"
                                                                        : "(γ1 * (Z1 - μ1)) / σ1 + β1"));
                    } else {
                        CHECK(back == text);
                    }
                    if (list == &x.forward && q.lhs != "J") {
                        forward[style == xg::sym::Style::ascii] += q.lhs + " = " + text + "\n";
                    }
                }
            }
        }
        // Typed back, each forward line but the loss's is the value of its node.
        for (const std::string& typed : forward) {
            const xg::DerivationReport r = xg::check_derivation(net.build, xg::parse_equations(typed));
            INFO(std::string(net.name) << "\n" << r.str());
            CHECK(r.ok());
            CHECK(r.checks.size() == x.forward.size() - 1);
        }
    }
}

TEST_CASE("parse: the spellings of one formula") {
    for (const char* s : {"dZ2 @ A1.T", "dZ2 . A1^T", "dZ2 · A1ᵀ", "dZ2 @ transpose(A1)", "dZ2.A1.T", "dZ2 @ np.transpose(A1)"}) {
        CHECK(uni(s) == "dZ2 · A1ᵀ");
    }
    for (const char* s : {"sum(dZ2, axis=1, keepdims=True)", "Σ_columns dZ2", "sum_columns(dZ2)", "Σ_columns(dZ2)",
                          "np.sum(dZ2, axis=1, keepdims=True)", "sum(dZ2, keepdims=True, axis=1)"}) {
        CHECK(uni(s) == "Σ_columns dZ2");
    }
    CHECK(uni("sum(dZ, axis=0, keepdims=True)") == "Σ_rows dZ");
    CHECK(uni("sum(dZ, keepdims=True)") == "Σ_all dZ");
    for (const char* s : {"A1^2", "A1²", "square(A1)", "A1^(2)"}) CHECK(uni(s) == "A1²");
    CHECK(uni("A^-1") == "A⁻¹");
    CHECK(uni("dA1 ⊙ (1 − A1²)") == uni("dA1 * (1 - A1^2)"));
    CHECK(uni("dA1 ∘ (1 - A1^2)") == "dA1 ⊙ (1 − A1²)");
    CHECK(uni("1.5e-3 * X") == "0.0015 X");
    CHECK(uni("2 X") == "2 X");
    CHECK(uni("-(1/m) sum(Y * log(A2))") == "−(1 / m) Σ(Y ⊙ log(A2))");
    CHECK(uni("sigmoid(Z) - σ(Z)") == "σ(Z) − σ(Z)");
    CHECK(uni("a * -b") == "a ⊙ −b");
    // A scale prints as "2 x": of a negation it is written −(2 x), never "2 −x" (which reads as 2 − x).
    CHECK(uni("2 * -x") == "−2 x");
    CHECK(uni("m * -(A - B)") == "−m (A − B)");
    CHECK(uni("m * dZ") == "m dZ");
    CHECK(uni("relu(Z) + step(Z) + exp(Z) + log(Z) + sqrt(Z) + abs(Z) + sign(Z) + softplus(Z) + softmax(Z)") ==
          "relu(Z) + step(Z) + exp(Z) + log(Z) + √(Z) + abs(Z) + sign(Z) + softplus(Z) + softmax(Z)");
}

TEST_CASE("parse: names with Greek letters, hats and tildes, as explain prints batch_norm's") {
    const std::vector<xg::TypedEquation> eqs =
        xg::parse_equations("dγ1 = 1/m * Σ_columns(dZ̃1 ⊙ X̂1)\n"
                            "dβ1 = 1/m * sum_columns(dZ̃1)\n"
                            "dZ1 = (1/m) (γ1 / σ1) ⊙ (m dZ̃1 − Σ_columns dZ̃1 − X̂1 ⊙ Σ_columns(dZ̃1 ⊙ X̂1))\n"
                            "σ1 = sqrt(var1 + 1e-5)\n");
    REQUIRE(eqs.size() == 4);
    CHECK(eqs[0].lhs == "dγ1");
    CHECK(eqs[1].lhs == "dβ1");
    CHECK(eqs[3].lhs == "σ1");
    CHECK(uni(eqs[0].rhs) == "(1 / m) Σ_columns(dZ̃1 ⊙ X̂1)");
    CHECK(uni(eqs[2].rhs) == "(1 / m) (γ1 / σ1) ⊙ (m dZ̃1 − Σ_columns dZ̃1 − X̂1 ⊙ Σ_columns(dZ̃1 ⊙ X̂1))");
    // σ alone before '(' is the sigmoid; σ1 and μσ are names; a Greek letter inside a name stays in it.
    CHECK(uni("σ(Z) + σ1 + μσ") == "σ(Z) + σ1 + μσ");
    CHECK(uni("2 μ1") == "2 μ1");
    CHECK(uni("dμ1ᵀ") == "dμ1ᵀ");
    // √ takes the root of the factor after it, as written by hand: √var1 is √(var1), not a name.
    CHECK(uni("√var1") == "√(var1)");
    CHECK(uni("γ1 / √var1 + 1") == "γ1 / √(var1) + 1");
    CHECK(uni("√(var1 + 1e-5)") == "√(var1 + 1e-05)");
    CHECK_THROWS_WITH_AS(xg::parse_expression("√ + 1"), doctest::Contains("expected what √ takes the root of"),
                         xg::ParseError);
    // A combining mark with no letter before it is not a name.
    CHECK_THROWS_AS(xg::parse_expression("\xCC\x82X"), xg::ParseError);
}

TEST_CASE("parse: what the renderer writes for a negation inside a product reads back with its value") {
    using namespace xg::sym;
    // −(b / c) under a division, and −x scaled: parentheses keep the grouping
    // (without them, "a / −b / c" reads as (a / −b) / c, "2 −x" as 2 − x).
    const Expr q = div(var("a"), neg(div(var("b"), var("c"))));
    CHECK(uni(q) == "a / (−b / c)");
    CHECK(uni(uni(q)) == "a / (−b / c)");
    CHECK(uni(div(var("a"), neg(neg(div(var("b"), var("c")))))) == "a / (−−b / c)");
    const Expr s = scale(num(2), neg(var("x")));
    CHECK(uni(s) == "2 (−x)");
    CHECK(render(s, Names{}, Style::ascii) == "2 * -x");
    CHECK(uni(hadamard(var("a"), neg(hadamard(var("b"), var("c"))))) == "a ⊙ (−b ⊙ c)");
    CHECK(uni(neg(hadamard(var("b"), var("c")))) == "−b ⊙ c");  // at the top, as before
    // A scaled product whose first factor is negated, or a negative number:
    // "m −1 A ⊙ C" would read as m − (1 A ⊙ C).
    CHECK(uni("1 * -A  C (+m)G") == "m (−1 A ⊙ C) ⊙ G");
    CHECK(uni(uni("1 * -A  C (+m)G")) == "−m 1 A ⊙ C ⊙ G");  // read back: the sign moved out front
    const Expr h = scale(var("m"), hadamard(neg(scale(num(1), var("A"))), var("C")));
    CHECK(uni(h) == "m (−1 A ⊙ C)");
    CHECK(uni(uni(h)) == "−m 1 A ⊙ C");
    CHECK(render(h, Names{}, Style::ascii) == "m * -1 * A * C");
    CHECK(uni(scale(var("m"), num(-2))) == "m (−2)");
    CHECK(uni(scale(var("m"), matmul(neg(neg(var("A"))), var("B")))) == "m (−−A · B)");
}

TEST_CASE("parse: comments, blank lines and ';'") {
    const std::vector<xg::TypedEquation> eqs =
        xg::parse_equations("# the output layer\n\ndZ2 = A2 - Y   # no 1/m here\ndW2 = 1/m * dZ2 . A1^T; db2 = 1/m * "
                            "sum_columns(dZ2)\r\n   \n");
    REQUIRE(eqs.size() == 3);
    CHECK(eqs[0].line == 3);
    CHECK(eqs[0].text == "dZ2 = A2 - Y");
    CHECK(eqs[1].line == 4);
    CHECK(eqs[2].line == 4);
    CHECK(eqs[2].lhs == "db2");
    CHECK(xg::parse_equations("").empty());
    CHECK(xg::parse_equations("# nothing\n\n").empty());
}

TEST_CASE("parse: a mistake in the text is a ParseError with its line, its column and what was expected") {
    struct Case {
        std::string text;
        std::size_t line, column;
        const char* message;
    };
    const std::vector<Case> cases = {
        {"dZ2 = A2 -", 1, 11, "expected a name, a number or '(', found the end of the line"},
        {"dW2 = 1/m * dZ2 .. A1", 1, 18, "expected a name, a number or '(' after a matrix product, found a matrix product"},
        {"dZ1 = (W2^T . dZ2 * (1 - A1^2)", 1, 31, "expected ')' to close the '(' at column 7, found the end of the line"},
        {"dZ2 = A2 $ Y", 1, 10, "unexpected character '$'"},
        {"= A2", 1, 1, "expected the name the equation defines (dZ1 = ...), found '='"},
        {"dZ2 A2 - Y", 1, 5, "expected '=' after dZ2, found 'A2'"},
        {"dZ2 = A2^", 1, 10, "expected T or a number after '^', found the end of the line"},
        {"dZ2 = tanh Z1", 1, 12, "expected '(' after the function tanh, found 'Z1'"},
        {"db = sum(dZ, axis=2)", 1, 19, "expected axis=0 (over the rows) or axis=1 (over the columns), found a number"},
        {"dZ2 = A2 - Y)", 1, 13, "')' without a matching '('"},
        {"dZ2 = A2 = Y", 1, 10, "a second '=': write one equation per line"},
        {"m = 3", 1, 1, "'m' cannot be defined"},
        {"tanh = 3", 1, 1, "'tanh' cannot be defined"},
        {"dZ2 = ()", 1, 8, "expected an expression inside '()'"},
        {"dZ2 = 1e999 * A", 1, 7, "the number 1e999 is out of range"},
        {"dZ2 = A2 - Y\n\ndW2 = dZ2 .", 3, 12, "expected a name, a number or '(' after a matrix product"},
        {"dZ2 = A2 - Y\ndZ2 = Y", 2, 1, "dZ2 is defined twice (first on line 1)"},
        {"dZ2 = A2 - Y;  dW2 = * A1", 1, 22, "expected a name, a number or '('"},
        {"dZ1 = W2ᵀ · dZ2 ⊙ (1 − A1²", 1, 27, "expected ')' to close the '(' at column 19"},
        {"dZ2 = A2 \x01 Y", 1, 10, "unexpected character \\x01"},
        {"dZ2 = sum(A, axis=1, keepdims=False)", 1, 31, "expected keepdims=True"},
        {"dZ2 = tanh(A, B)", 1, 13, "tanh takes one argument"},
    };
    for (const Case& c : cases) {
        INFO(c.text);
        bool thrown = false;
        try {
            xg::parse_equations(c.text);
        } catch (const xg::ParseError& e) {
            thrown = true;
            CHECK(e.line() == c.line);
            CHECK(e.column() == c.column);
            CHECK(e.message().find(c.message) != std::string::npos);
            const std::string what = e.what();
            CHECK(what.rfind("line " + std::to_string(c.line) + ", column " + std::to_string(c.column) + ": ", 0) == 0);
            // The line is shown with a caret under the column.
            CHECK(what.find("\n  " + std::string(c.column - 1, ' ') + "^") != std::string::npos);
        }
        CHECK(thrown);
    }
    CHECK_THROWS_AS(xg::parse_expression("(((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((x"),
                    xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::parse_expression(std::string(200, '-') + "x"), doctest::Contains("nested too deeply"),
                         xg::ParseError);
}

// ---- check_derivation ---------------------------------------------------------------------

TEST_CASE("check_derivation: the lecture's six equations typed as text all agree") {
    const xg::DerivationReport r = xg::check_derivation(dn::two_layer, xg::parse_equations(lecture_six));
    INFO(r.str());
    CHECK(r.ok());
    REQUIRE(r.checks.size() == 6);
    for (const xg::EquationCheck& c : r.checks) CHECK(c.verdict == Verdict::agrees);
    CHECK(r.cause == 6);
    CHECK(r.first_wrong() == nullptr);
    // The probes: at least six, one with every size 1 and m = 1, one with one column.
    REQUIRE(r.probes.size() == 6);
    CHECK(r.probes[1].examples == 1);
    CHECK(r.probes[1].sizes == std::vector<std::size_t>(4, 1));
    CHECK(r.probes[2].examples == 1);
    CHECK(r.probes[0].examples >= 3);
    CHECK(r.str().find("6 of 6 equations agree") != std::string::npos);
}

TEST_CASE("check_derivation: the convention decides where the 1/m goes") {
    const char* autodiff =
        "dZ2 = (A2 - Y) / m\n"
        "dW2 = dZ2 . A1^T\n"
        "db2 = sum_columns(dZ2)\n"
        "dA1 = W2^T . dZ2\n"
        "dZ1 = dA1 * (1 - A1^2)\n"
        "dW1 = dZ1 . X^T\n"
        "db1 = sum_columns(dZ1)\n";
    xg::DerivationOptions o;
    o.convention = xg::Convention::autodiff;
    const xg::DerivationReport a = xg::check_derivation(dn::two_layer, xg::parse_equations(autodiff), o);
    INFO(a.str());
    CHECK(a.ok());
    // The lecture's equations in xgrad's convention: dZ2 is m times ∂J/∂Z2.
    const xg::DerivationReport b = xg::check_derivation(dn::two_layer, xg::parse_equations(lecture_six), o);
    INFO(b.str());
    REQUIRE(b.first_wrong() != nullptr);
    CHECK(b.first_wrong()->equation.lhs == "dZ2");
    CHECK(b.first_wrong()->mistake == Mistake::factor_m);
    CHECK(b.first_wrong()->hint.find("the 1/m is missing") != std::string::npos);
    // xgrad's dZ2 in the lecture's convention: a 1/m too many.
    const xg::DerivationReport c =
        xg::check_derivation(dn::two_layer, xg::parse_equations(replaced(lecture_six, "dZ2", "dZ2 = (A2 - Y) / m")));
    INFO(c.str());
    REQUIRE(c.first_wrong() != nullptr);
    CHECK(c.first_wrong()->mistake == Mistake::factor_m);
    CHECK(c.first_wrong()->hint.find("a 1/m too many") != std::string::npos);
    CHECK(c.first_wrong()->max_rel_diff > 0.5);
}

TEST_CASE("check_derivation: each typical mistake in the two-layer network, with its diagnosis") {
    check_variants(dn::two_layer, lecture_six,
                   {
                       {"missing 1/m", "dW2", "dW2 = dZ2 . A1^T", Mistake::factor_m, "the 1/m is missing"},
                       {"missing (1 - A1^2)", "dZ1", "dZ1 = W2^T . dZ2", Mistake::missing_factor,
                        "lacks the factor (1 − A1²), the derivative of tanh in A1 = tanh(Z1)"},
                       {"A1 instead of A1^T", "dW2", "dW2 = 1/m * dZ2 . A1", Mistake::transpose, "A1 where A1ᵀ is meant"},
                       {"sum over the wrong axis", "db1", "db1 = 1/m * sum_rows(dZ1)", Mistake::sum_axis,
                        "Σ_rows dZ1 where Σ_columns dZ1 is meant"},
                       {"sign error", "dZ2", "dZ2 = Y - A2", Mistake::sign, "the sign is wrong"},
                       {"W2 instead of W2^T", "dZ1", "dZ1 = (W2 . dZ2) * (1 - A1^2)", Mistake::transpose,
                        "W2 where W2ᵀ is meant"},
                       {"product in the wrong order", "dW1", "dW1 = 1/m * X^T . dZ1", Mistake::operand_order,
                        "in the wrong order"},
                   });
}

TEST_CASE("check_derivation: a wrong equation makes the ones that read it follow, and only those") {
    const xg::DerivationReport r =
        xg::check_derivation(dn::two_layer, xg::parse_equations(replaced(lecture_six, "dZ1", "dZ1 = W2^T . dZ2")));
    INFO(r.str());
    CHECK(check_of(r, "dZ2").verdict == Verdict::agrees);
    CHECK(check_of(r, "dW2").verdict == Verdict::agrees);
    CHECK(check_of(r, "db2").verdict == Verdict::agrees);
    CHECK(check_of(r, "dZ1").verdict == Verdict::differs);
    CHECK(check_of(r, "dW1").verdict == Verdict::follows);
    CHECK(check_of(r, "db1").verdict == Verdict::follows);
    CHECK(r.first_wrong()->equation.lhs == "dZ1");
    const xg::EquationCheck& c = check_of(r, "dZ1");
    CHECK(c.engine_equation == "dZ1 = dA1 ⊙ (1 − A1²)");
    CHECK(c.max_rel_diff > 1e-3);
    CHECK(c.yours != doctest::Approx(c.engine));
    const std::string s = r.str();
    CHECK(s.find("dZ1 = W2^T . dZ2") != std::string::npos);
    CHECK(s.find("<- the first wrong equation") != std::string::npos);
    CHECK(s.find("follows from dZ1") != std::string::npos);
    CHECK(s.find("xgrad: dZ1 = dA1 ⊙ (1 − A1²)") != std::string::npos);
}

TEST_CASE("check_derivation: an L-layer relu network") {
    const std::string right =
        "dZ3 = A3 - Y\n"
        "dW3 = 1/m * dZ3 . A2^T\n"
        "db3 = 1/m * sum_columns(dZ3)\n"
        "dA2 = W3^T . dZ3\n"
        "dZ2 = dA2 * step(Z2)\n"
        "dW2 = 1/m * dZ2 . A1^T\n"
        "db2 = 1/m * sum_columns(dZ2)\n"
        "dA1 = W2^T . dZ2\n"
        "dZ1 = dA1 * step(Z1)\n"
        "dW1 = 1/m * dZ1 . X^T\n"
        "db1 = 1/m * sum_columns(dZ1)\n";
    check_variants(dn::deep_relu, right,
                   {
                       {"missing step(Z2)", "dZ2", "dZ2 = dA2", Mistake::missing_factor,
                        "the derivative of relu in A2 = relu(Z2)"},
                       {"A1 instead of A1^T", "dW2", "dW2 = 1/m * dZ2 . A1", Mistake::transpose, "A1 where A1ᵀ is meant"},
                   });
}

TEST_CASE("check_derivation: the RNN cell") {
    const std::string right =
        "dzy = y_hat - Y\n"
        "dWya = 1/m * dzy . a_next^T\n"
        "dby = 1/m * sum_columns(dzy)\n"
        "da_next = Wya^T . dzy\n"
        "dz = da_next * (1 - a_next^2)\n"
        "dWax = 1/m * dz . x^T\n"
        "dWaa = 1/m * dz . a_prev^T\n"
        "dba = 1/m * sum_columns(dz)\n"
        "dx = Wax^T . dz\n"
        "da_prev = Waa^T . dz\n";
    check_variants(dn::rnn_cell, right,
                   {
                       {"missing (1 - a_next^2)", "dz", "dz = da_next", Mistake::missing_factor,
                        "lacks the factor (1 − a_next²), the derivative of tanh"},
                       {"Waa instead of Waa^T (a square matrix)", "da_prev", "da_prev = Waa . dz", Mistake::transpose,
                        "Waa where Waaᵀ is meant"},
                       {"missing 1/m", "dWax", "dWax = dz . x^T", Mistake::factor_m, "the 1/m is missing"},
                       {"sum over the wrong axis", "dba", "dba = 1/m * sum_rows(dz)", Mistake::sum_axis, "Σ_rows dz"},
                       {"sign error", "dzy", "dzy = Y - y_hat", Mistake::sign, "the sign is wrong"},
                       {"a_next instead of a_next^T", "dWya", "dWya = 1/m * dzy . a_next", Mistake::transpose,
                        "a_next where a_nextᵀ is meant"},
                   });
}

TEST_CASE("check_derivation: softmax with cross-entropy") {
    const std::string right =
        "dZ = A - Y\n"
        "dW = 1/m * dZ . X^T\n"
        "db = 1/m * sum_columns(dZ)\n";
    check_variants(dn::softmax_regression, right,
                   {
                       {"sign error", "dZ", "dZ = Y - A", Mistake::sign, "the sign is wrong"},
                       {"missing 1/m", "dW", "dW = dZ . X^T", Mistake::factor_m, "the 1/m is missing"},
                       {"X instead of X^T", "dW", "dW = 1/m * dZ . X", Mistake::transpose, "X where Xᵀ is meant"},
                       {"sum over the wrong axis", "db", "db = 1/m * sum_rows(dZ)", Mistake::sum_axis, "Σ_rows dZ"},
                       {"the logits for the probabilities", "dZ", "dZ = Z - Y", Mistake::none, ""},
                   });
}

namespace {

// The batch-norm network's backward pass (the lecture's convention): the
// compact formula for dZ1, dγ1 and dβ1 with the 1/m of a parameter.
const char* const batch_norm_right =
    "dZ2 = A2 - Y\n"
    "dW2 = 1/m * dZ2 . A1^T\n"
    "db2 = 1/m * sum_columns(dZ2)\n"
    "dA1 = W2^T . dZ2\n"
    "dZ̃1 = dA1 * step(Z̃1)\n"
    "dγ1 = 1/m * sum_columns(dZ̃1 * X̂1)\n"
    "dβ1 = 1/m * sum_columns(dZ̃1)\n"
    "dZ1 = 1/m * γ1 / σ1 * (m * dZ̃1 - sum_columns(dZ̃1) - X̂1 * sum_columns(dZ̃1 * X̂1))\n"
    "dW1 = 1/m * dZ1 . X^T\n";

}  // namespace

TEST_CASE("check_derivation: batch normalisation, the compact backward and its statistics") {
    const xg::DerivationReport r = xg::check_derivation(dn::batch_norm, xg::parse_equations(batch_norm_right));
    INFO(r.str());
    CHECK(r.ok());
    REQUIRE(r.checks.size() == 9);
    // In sweep order: dZ1 after dZ̃1, dγ1 and dβ1.
    CHECK(r.checks.front().equation.lhs == "dZ2");
    CHECK(r.checks.back().equation.lhs == "dW1");
    CHECK(check_of(r, "dZ1").engine_equation.find("X̂1 ⊙ Σ_columns(dZ̃1 ⊙ X̂1)") != std::string::npos);
    // A batch needs two columns: the probes of one example are built with two, and say so.
    for (const xg::DerivationProbe& p : r.probes) CHECK(p.examples >= 2);
    CHECK(r.probes[1].examples == 2);
    CHECK(r.probes[1].sizes == std::vector<std::size_t>(4, 1));

    // The statistics as named nodes equal batch_norm's own: the forward equations check against them.
    const xg::DerivationReport f = xg::check_derivation(
        dn::batch_norm, xg::parse_equations("μ1 = 1/m * sum_columns(Z1)\n"
                                            "var1 = 1/m * sum_columns((Z1 - μ1)^2)\n"
                                            "σ1 = sqrt(var1 + 1e-5)\n"
                                            "X̂1 = (Z1 - μ1) / σ1\n"
                                            "Z̃1 = γ1 * X̂1 + β1\n"));
    INFO(f.str());
    CHECK(f.ok());
    CHECK(f.checks.size() == 5);
    // σ1 is not the standard deviation alone: without ε it differs, by about ε / (2 var1).
    const xg::DerivationReport s = xg::check_derivation(dn::batch_norm, xg::parse_equations("σ1 = sqrt(var1)\n"));
    INFO(s.str());
    CHECK(s.checks.front().verdict == Verdict::differs);
    CHECK(s.checks.front().max_rel_diff > 1e-7);
    CHECK(s.checks.front().max_rel_diff < 0.5);
}

TEST_CASE("check_derivation: the typical batch-norm mistakes, each found at dZ1 or where it is") {
    struct Wrong {
        const char* what;
        const char* lhs;
        const char* line;
    };
    const std::vector<Wrong> wrongs = {
        {"the − X̂ ⊙ Σ(dZ̃ ⊙ X̂) term dropped", "dZ1",
         "dZ1 = 1/m * γ1 / σ1 * (m * dZ̃1 - sum_columns(dZ̃1))"},
        {"σ without ε", "dZ1",
         "dZ1 = 1/m * γ1 / √var1 * (m * dZ̃1 - sum_columns(dZ̃1) - X̂1 * sum_columns(dZ̃1 * X̂1))"},
        {"the γ forgotten", "dZ1", "dZ1 = 1/m / σ1 * (m * dZ̃1 - sum_columns(dZ̃1) - X̂1 * sum_columns(dZ̃1 * X̂1))"},
        {"only the first term, as if μ and σ were constants", "dZ1", "dZ1 = γ1 / σ1 * dZ̃1"},
        {"dγ1 with Z1 for X̂1", "dγ1", "dγ1 = 1/m * sum_columns(dZ̃1 * Z1)"},
        {"relu's derivative forgotten", "dZ̃1", "dZ̃1 = dA1"},
    };
    for (const Wrong& w : wrongs) {
        const xg::DerivationReport r =
            xg::check_derivation(dn::batch_norm, xg::parse_equations(replaced(batch_norm_right, w.lhs, w.line)));
        INFO(w.what << "\n" << r.str());
        REQUIRE(r.first_wrong() != nullptr);
        CHECK(r.first_wrong()->equation.lhs == w.lhs);
        CHECK(r.first_wrong()->verdict == Verdict::differs);
        CHECK(r.first_wrong()->max_rel_diff > 1e-6);
        for (std::size_t k = 0; k < r.cause; ++k) CHECK(r.checks[k].verdict == Verdict::agrees);
        for (std::size_t k = r.cause + 1; k < r.checks.size(); ++k) {
            CHECK((r.checks[k].verdict == Verdict::agrees || r.checks[k].verdict == Verdict::follows));
        }
    }
    // dW1 reads the wrong dZ1: it follows from it.
    const xg::DerivationReport r = xg::check_derivation(
        dn::batch_norm,
        xg::parse_equations(replaced(batch_norm_right, "dZ1", "dZ1 = 1/m * γ1 / σ1 * (m * dZ̃1 - sum_columns(dZ̃1))")));
    CHECK(check_of(r, "dW1").verdict == Verdict::follows);
    CHECK(check_of(r, "dW1").reads_wrong == std::vector<std::string>{"dZ1"});
    CHECK(check_of(r, "dγ1").verdict == Verdict::agrees);
}

TEST_CASE("check_derivation: an equation right only at one shape is caught by the probes") {
    // With one hidden unit W2 is 1 × 1, so W2 and W2ᵀ are the same matrix:
    // on that graph alone the mistake cannot show; other shapes show it.
    const std::string wrong = replaced(lecture_six, "dZ1", "dZ1 = (W2 . dZ2) * (1 - A1^2)");
    xg::DerivationProbe p;
    p.examples = 5;
    p.sizes = {2, 1};
    p.seed = 7;
    xg::DerivationNetwork net = dn::two_layer(p);
    const xg::DerivationReport one = xg::check_derivation(*net.graph, net.loss, xg::parse_equations(wrong));
    INFO(one.str());
    CHECK(one.ok());
    const xg::DerivationReport probed = xg::check_derivation(dn::two_layer, xg::parse_equations(wrong));
    INFO(probed.str());
    REQUIRE(probed.first_wrong() != nullptr);
    CHECK(probed.first_wrong()->equation.lhs == "dZ1");
}

TEST_CASE("check_derivation on one graph: random values at its shapes, and the graph left as it was") {
    xg::DerivationProbe p;
    p.examples = 4;
    p.sizes = {3, 2};
    p.seed = 3;
    xg::DerivationNetwork net = dn::two_layer(p);
    xg::Graph<double>& g = *net.graph;
    std::vector<xg::Matrix<double>> before;
    for (std::uint32_t id = 0; id < g.size(); ++id) before.push_back(g.value(id));
    const xg::DerivationReport r = xg::check_derivation(g, net.loss, xg::parse_equations(lecture_six));
    INFO(r.str());
    CHECK(r.ok());
    CHECK(r.probes.size() == 6);
    for (std::uint32_t id = 0; id < g.size(); ++id) CHECK(g.value(id) == before[id]);
    CHECK(net.loss.value()(0, 0) == before[net.loss.id()](0, 0));
    // Values only: a wrong equation that happens to agree on the present draw is still caught.
    const xg::DerivationReport w =
        xg::check_derivation(g, net.loss, xg::parse_equations(replaced(lecture_six, "dZ1", "dZ1 = W2^T . dZ2")));
    CHECK(w.first_wrong() != nullptr);
}

TEST_CASE("check_derivation: what cannot be checked, and why") {
    const xg::DerivationReport r = xg::check_derivation(dn::two_layer, xg::parse_equations("dQ = A2 - Y\n"
                                                                                           "dZ2 = A2 - Q\n"
                                                                                           "dA2 = A2 - Y\n"
                                                                                           "dX = W1^T . dZ1\n"
                                                                                           "dW2 = 1/m * dZ2 . W1\n"));
    INFO(r.str());
    CHECK(check_of(r, "dQ").verdict == Verdict::cannot_check);
    CHECK(check_of(r, "dQ").problem.find("no node is named dQ or Q") != std::string::npos);
    CHECK(check_of(r, "dQ").problem.find("W1") != std::string::npos);  // the names it knows
    CHECK(check_of(r, "dZ2").verdict == Verdict::cannot_check);
    CHECK(check_of(r, "dZ2").problem.find("it reads Q") != std::string::npos);
    CHECK(check_of(r, "dA2").verdict == Verdict::cannot_check);
    CHECK(check_of(r, "dA2").problem.find("computes no gradient for A2") != std::string::npos);
    CHECK(check_of(r, "dX").problem.find("computes no gradient for X (an input") != std::string::npos);
    const xg::EquationCheck& w = check_of(r, "dW2");
    CHECK(w.verdict == Verdict::cannot_check);
    CHECK(w.problem.find("the inner dimensions differ") != std::string::npos);
    CHECK(w.problem.find("W1 [") != std::string::npos);
    CHECK_FALSE(r.ok());
}

TEST_CASE("check_derivation: forward equations are checked against the values") {
    const xg::DerivationReport r =
        xg::check_derivation(dn::two_layer, xg::parse_equations("Z1 = W1 . X + b1\nA1 = sigmoid(Z1)\n" +
                                                                std::string(lecture_six)));
    INFO(r.str());
    CHECK(check_of(r, "Z1").verdict == Verdict::agrees);
    CHECK_FALSE(check_of(r, "Z1").gradient);
    CHECK(check_of(r, "A1").verdict == Verdict::differs);
    CHECK(check_of(r, "A1").engine_equation == "A1 = tanh(Z1)");
    CHECK(r.checks.front().equation.lhs == "Z1");  // forward equations come first in sweep order
    CHECK(r.first_wrong()->equation.lhs == "A1");
}

TEST_CASE("check_derivation: a builder that does not build is a GraphError") {
    const auto none = [](const xg::DerivationProbe&) { return xg::DerivationNetwork{}; };
    CHECK_THROWS_AS(xg::check_derivation(none, xg::parse_equations(lecture_six)), xg::GraphError);
    const auto not_scalar = [](const xg::DerivationProbe& p) {
        xg::DerivationNetwork n = dn::two_layer(p);
        xg::Graph<double>& g = *n.graph;
        for (std::uint32_t id = 0; id < g.size(); ++id) {
            if (g.name(id) == "Z1") n.loss = g.var(id);
        }
        return n;
    };
    CHECK_THROWS_WITH_AS(xg::check_derivation(not_scalar, xg::parse_equations(lecture_six)),
                         doctest::Contains("the loss must be a 1x1 node"), xg::GraphError);
}
