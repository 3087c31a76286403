// The parser of typed equations: every notation explain prints, and its errors.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <xgrad/xgrad.hpp>


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
    // The two-layer network, a relu layer and softmax regression, on small fixed values.
    xg::Graph<double> g;
    auto X = g.input(xg::Matrix<double>{{0.5, -1.0, 2.0}, {1.5, 0.25, -0.5}}, "X");
    auto Y = g.input(xg::Matrix<double>{{1.0, 0.0, 1.0}}, "Y");
    auto C = g.input(xg::Matrix<double>{{1.0, 0.0, 0.0}, {0.0, 1.0, 1.0}}, "C");
    auto W1 = g.parameter(xg::Matrix<double>{{0.1, -0.2}, {0.3, 0.4}, {-0.5, 0.6}}, "W1");
    auto b1 = g.parameter(xg::Matrix<double>{{0.1}, {0.2}, {0.3}}, "b1");
    auto W2 = g.parameter(xg::Matrix<double>{{0.7, -0.8, 0.9}}, "W2");
    auto b2 = g.parameter(xg::Matrix<double>{{0.1}}, "b2");
    auto V = g.parameter(xg::Matrix<double>{{0.2, -0.1, 0.4}, {0.3, 0.5, -0.6}}, "V");
    auto Z1 = (matmul(W1, X) + b1).named("Z1");
    auto A1 = tanh(Z1).named("A1");
    auto Z2 = (matmul(W2, A1) + b2).named("Z2");
    auto J = binary_cross_entropy(sigmoid(Z2).named("A2"), Y).named("J");
    auto R = relu(Z1).named("R");
    auto K = softmax_cross_entropy(matmul(V, R).named("U"), C).named("K");
    for (xg::Var<double> loss : {J, K}) {
        const xg::Explanation x = xg::derive(loss);
        for (const auto* list : {&x.forward, &x.backward}) {
            for (const xg::Equation& q : *list) {
                for (xg::sym::Style style : {xg::sym::Style::unicode, xg::sym::Style::ascii}) {
                    const std::string text = xg::sym::render(q.rhs, xg::sym::Names{}, style);
                    INFO(q.lhs << " = " << text);
                    CHECK(xg::sym::render(xg::parse_expression(text), xg::sym::Names{}, style) == text);
                }
            }
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
    CHECK(uni("m * dZ") == "m dZ");
    CHECK(uni("relu(Z) + step(Z) + exp(Z) + log(Z) + sqrt(Z) + abs(Z) + sign(Z) + softplus(Z) + softmax(Z)") ==
          "relu(Z) + step(Z) + exp(Z) + log(Z) + √(Z) + abs(Z) + sign(Z) + softplus(Z) + softmax(Z)");
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

