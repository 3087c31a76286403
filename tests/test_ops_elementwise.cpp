// Elementwise arithmetic and functions beyond the op table's rows
// (tests/op_table.hpp checks every op and broadcasting case on its own):
// hand-computed values and gradients, an operand used twice, the spellings of
// the number forms, more exponents of pow, exact error messages, float32
// against float64 on a composite expression, chains of identity gradients.
#include <doctest/doctest.h>

#include <functional>
#include <random>

#include "helpers.hpp"

using xg::Matrix;
using xg::Shape;
using namespace xgt;

namespace {

using BinaryVar = std::function<xg::Var<double>(xg::Var<double>, xg::Var<double>)>;
/// A unary op: values against `f` at every entry and gradients by finite differences.
void check_unary(const std::function<xg::Var<double>(xg::Var<double>)>& op, const std::function<double(double)>& f,
                 const Matrix<double>& x, std::mt19937_64& rng) {
    xg::Graph<double> g;
    auto X = g.parameter(x, "X");
    auto Y = op(X);
    REQUIRE(Y.shape() == X.shape());
    for (std::size_t k = 0; k < x.size(); ++k) {
        CAPTURE(x.data()[k]);
        CHECK(Y.value().data()[k] == doctest::Approx(f(x.data()[k])).epsilon(1e-15));
    }
    check_grads(g, weighted_sum(Y, rng));
}

}  // namespace

TEST_CASE("binary ops: hand-computed values and gradients of a bias broadcast") {
    xg::Graph<double> g;
    auto A = g.parameter(Matrix<double>{{1, 2, 3}, {4, 5, 6}}, "A");
    auto b = g.parameter(Matrix<double>{{2}, {-1}}, "b");
    const Matrix<double> prod = {{2, 4, 6}, {-4, -5, -6}};
    const Matrix<double> quot = {{0.5, 1, 1.5}, {-4, -5, -6}};
    const Matrix<double> diff = {{-1, 0, 1}, {5, 6, 7}};
    CHECK((A * b).value() == prod);
    CHECK((A / b).value() == quot);
    CHECK((A - b).value() == diff);
    // J = Σ A ⊙ b: dA = b broadcast, db = Σ_columns A.
    auto J = sum(A * b);
    g.backward(J);
    CHECK(A.grad() == Matrix<double>{{2, 2, 2}, {-1, -1, -1}});
    CHECK(b.grad() == Matrix<double>{{6}, {15}});
    // J = Σ A / b: dA = 1 / b, db = −Σ_columns A / b².
    auto J2 = sum(A / b);
    g.backward(J2);
    CHECK(A.grad() == Matrix<double>{{0.5, 0.5, 0.5}, {-1, -1, -1}});
    CHECK(b.grad() == Matrix<double>{{-1.5}, {-15}});
    // J = Σ (A − b): db = −(number of columns).
    g.backward(sum(A - b));
    CHECK(b.grad() == Matrix<double>{{-3}, {-3}});
}

TEST_CASE("an operand used twice: A − A, A ⊙ A, A / A") {
    std::mt19937_64 rng(12);
    xg::Graph<double> g;
    auto A = g.parameter(uniform(3, 4, rng, 0.5, 2.0), "A");
    g.backward(sum(A - A));
    CHECK(A.grad() == Matrix<double>(xt::zeros<double>({3, 4})));
    g.backward(sum(A * A));
    CHECK(A.grad() == Matrix<double>(2.0 * A.value()));
    g.backward(sum(A / A));
    CHECK(rel_err(A.grad() + 1.0, Matrix<double>(xt::ones<double>({3, 4}))) <= 1e-15);
    check_grads(g, weighted_sum((A * A) / A - A * (A - A), rng));
}

TEST_CASE("neg and the matrix-and-number forms") {
    std::mt19937_64 rng(13);
    xg::Graph<double> g;
    const Matrix<double> a = uniform(2, 3, rng, 0.5, 2.0);
    auto A = g.parameter(a, "A");
    using Form = std::function<xg::Var<double>(xg::Var<double>)>;
    struct Case {
        const char* text;
        Form make;
        std::function<double(double)> f;
        double slope;  // dY/dA at A = 1, the gradient checked by hand
    };
    const Case cases[] = {
        {"-A", [](auto x) { return -x; }, [](double x) { return -x; }, -1},
        {"neg(A)", [](auto x) { return neg(x); }, [](double x) { return -x; }, -1},
        {"2.0 * A", [](auto x) { return 2.0 * x; }, [](double x) { return 2 * x; }, 2},
        {"2 * A", [](auto x) { return 2 * x; }, [](double x) { return 2 * x; }, 2},
        {"A * 0.5", [](auto x) { return x * 0.5; }, [](double x) { return x * 0.5; }, 0.5},
        {"A / 400.0", [](auto x) { return x / 400.0; }, [](double x) { return x / 400; }, 1.0 / 400},
        {"1.0 - A", [](auto x) { return 1.0 - x; }, [](double x) { return 1 - x; }, -1},
        {"A - 1.0", [](auto x) { return x - 1.0; }, [](double x) { return x - 1; }, 1},
        {"A + 1.0", [](auto x) { return x + 1.0; }, [](double x) { return x + 1; }, 1},
        {"1.0 + A", [](auto x) { return 1.0 + x; }, [](double x) { return 1 + x; }, 1},
        {"3.0 / A", [](auto x) { return 3.0 / x; }, [](double x) { return 3 / x; }, -3},
    };
    for (const Case& c : cases) {
        CAPTURE(c.text);
        const xg::Var<double> y = c.make(A);
        for (std::size_t k = 0; k < a.size(); ++k) CHECK(y.value().data()[k] == c.f(a.data()[k]));
        xg::Graph<double> g1;
        auto one = g1.parameter(Matrix<double>{{1.0}}, "one");
        g1.backward(c.make(one));
        CHECK(one.grad()(0, 0) == c.slope);
    }
    auto J = weighted_sum(-A + 2.0 * A - A / 3.0 + (1.0 - A) * (A + 0.5) + 2.0 / A, rng);
    check_grads(g, J);
}

TEST_CASE("matrix-and-number forms compile and agree for float graphs") {
    xg::Graph<float> g;
    auto A = g.parameter(Matrix<float>{{1.0f, -2.0f}, {4.0f, 0.5f}}, "A");
    auto Y = 2.0 * A + A / 400.0 - (1.0 - A) * 0.5 + 1 / A;
    const Matrix<float> a = A.value();
    for (std::size_t k = 0; k < a.size(); ++k) {
        const float x = a.data()[k];
        CHECK(Y.value().data()[k] == doctest::Approx(2 * x + x / 400 - (1 - x) * 0.5 + 1 / x).epsilon(1e-6));
    }
}

TEST_CASE("pow: exponents beyond the op table's rows, and integer exponents of negative bases") {
    // The op table checks exp, log, square, sqrt, abs and pow with p = 3, −2, 0.5.
    std::mt19937_64 rng(14);
    const Matrix<double> any = randn(3, 5, rng, 1.5);
    const Matrix<double> positive = uniform(3, 5, rng, 0.2, 3.0);
    Matrix<double> no_zero = any;
    for (auto& v : no_zero) v = v >= 0 ? v + 0.1 : v - 0.1;
    for (double p : {2.0, 3.0, -1.0, -2.0, 0.5, 1.5, -0.5, 1.0}) {
        CAPTURE(p);
        check_unary([p](auto x) { return pow(x, p); }, [p](double x) { return std::pow(x, p); }, positive, rng);
    }
    // Integer exponents accept negative bases.
    check_unary([](auto x) { return pow(x, 3.0); }, [](double x) { return x * x * x; }, no_zero, rng);
    check_unary([](auto x) { return pow(x, -2.0); }, [](double x) { return 1 / (x * x); }, no_zero, rng);
}

TEST_CASE("elementwise functions: hand-computed values and gradients") {
    xg::Graph<double> g;
    auto X = g.parameter(Matrix<double>{{4.0, 0.25, -3.0}}, "X");
    CHECK(square(X).value() == Matrix<double>{{16, 0.0625, 9}});
    CHECK(abs(X).value() == Matrix<double>{{4, 0.25, 3}});
    CHECK(pow(X, 3.0).value() == Matrix<double>{{64, 0.015625, -27}});
    auto P = g.parameter(Matrix<double>{{4.0, 0.25, 1.0}}, "P");
    CHECK(sqrt(P).value() == Matrix<double>{{2, 0.5, 1}});
    CHECK(pow(P, -0.5).value() == Matrix<double>{{0.5, 2, 1}});
    g.backward(sum(sqrt(P)));  // 1 / (2 √p)
    CHECK(P.grad() == Matrix<double>{{0.25, 1, 0.5}});
    g.backward(sum(square(X)));  // 2 x
    CHECK(X.grad() == Matrix<double>{{8, 0.5, -6}});
    g.backward(sum(abs(X)));  // sign(x)
    CHECK(X.grad() == Matrix<double>{{1, 1, -1}});
    g.backward(sum(log(P)));  // 1 / p
    CHECK(P.grad() == Matrix<double>{{0.25, 4, 1}});
    g.backward(sum(pow(P, 1.5)));  // 1.5 √p
    CHECK(P.grad() == Matrix<double>{{3, 0.75, 1.5}});
    // The subgradient of |x| at 0 is 0.
    auto Z = g.parameter(Matrix<double>{{0.0}}, "Z");
    g.backward(sum(abs(Z)));
    CHECK(Z.grad()(0, 0) == 0.0);
}

TEST_CASE("float32 agrees with float64: broadcasting binary ops and elementwise functions") {
    std::mt19937_64 rng(15);
    const Matrix<double> a = uniform(4, 6, rng, 0.5, 2.0), b = uniform(4, 1, rng, 0.5, 2.0);
    const Matrix<double> w = randn(4, 6, rng);
    xg::Graph<double> gd;
    xg::Graph<float> gf;
    auto build = [](auto& g, const auto& a, const auto& b, const auto& w) {
        auto A = g.parameter(a, "A");
        auto B = g.parameter(b, "B");
        auto W = g.input(w, "W");
        auto Y = (A - B) * (A / B) + exp(-A) + log(A) * sqrt(A) - 2.0 * square(abs(A - 1.0)) + pow(A, 1.5);
        auto J = sum(Y * W);
        g.backward(J);
        return std::tuple{J, A, B};
    };
    auto [Jd, Ad, Bd] = build(gd, a, b, w);
    auto [Jf, Af, Bf] = build(gf, to_float(a), to_float(b), to_float(w));
    CHECK(Jf.value()(0, 0) == doctest::Approx(Jd.value()(0, 0)).epsilon(1e-5));
    CHECK(rel_err(Af.grad(), Ad.grad()) <= 1e-5);
    CHECK(rel_err(Bf.grad(), Bd.grad()) <= 1e-5);
}

TEST_CASE("broadcasting failures: ShapeError naming the op, both nodes and their shapes") {
    std::mt19937_64 rng(16);
    xg::Graph<double> g;
    auto A = g.parameter(randn(4, 3, rng), "A");
    struct Case {
        Shape b;
        const char* why;
    };
    const Case cases[] = {
        {{2, 3}, "rows differ, neither is 1"},
        {{4, 2}, "columns differ, neither is 1"},
        {{2, 2}, "both differ"},
        {{3, 4}, "transposed"},
        {{2, 1}, "column of the wrong length"},
        {{1, 5}, "row of the wrong length"},
    };
    const std::pair<const char*, BinaryVar> ops[] = {
        {"sub", [](auto a, auto b) { return a - b; }},
        {"mul", [](auto a, auto b) { return a * b; }},
        {"div", [](auto a, auto b) { return a / b; }},
    };
    for (const Case& c : cases) {
        CAPTURE(c.why);
        auto B = g.input(uniform(c.b.rows, c.b.cols, rng, 1, 2), "B");
        for (const auto& [name, op] : ops) {
            CAPTURE(name);
            const std::size_t before = g.size();
            const std::string msg = message_of<xg::ShapeError>([&] { op(A, B); });
            CHECK(msg == std::string(name) + "(A, B): cannot broadcast (each dimension must be equal, or 1): A [4x3], B [" +
                             xg::to_string(c.b) + "]");
            CHECK(g.size() == before);
            // And with the operands the other way round.
            CHECK(contains(message_of<xg::ShapeError>([&] { op(B, A); }), std::string(name) + "(B, A)"));
        }
    }
}

TEST_CASE("value errors: division by zero, log and sqrt outside their domain, pow") {
    xg::Graph<double> g;
    auto A = g.parameter(Matrix<double>{{1.0, 2.0}, {3.0, 4.0}}, "A");
    auto B = g.input(Matrix<double>{{1.0}, {0.0}}, "B");
    CHECK(message_of<xg::ValueError>([&] { A / B; }) == "div(A, B): division by zero: divisor entry (1, 0) = 0");
    CHECK(message_of<xg::ValueError>([&] { A / 0.0; }) == "x_over_s(A): division by zero");
    auto Z = g.input(Matrix<double>{{1.0, 0.0}}, "Z");
    CHECK(message_of<xg::ValueError>([&] { 1.0 / Z; }) == "s_over_x(Z): division by zero: divisor entry (0, 1) = 0");
    CHECK(contains(message_of<xg::ValueError>([&] { 2.0 * A * std::nan(""); }), "the number is not finite"));

    auto N = g.input(Matrix<double>{{1.0, -0.5}}, "N");
    CHECK(message_of<xg::ValueError>([&] { log(N); }) == "log(N): entry (0, 1) = -0.5 is not positive");
    CHECK(contains(message_of<xg::ValueError>([&] { log(Z); }), "entry (0, 1) = 0 is not positive"));
    CHECK(message_of<xg::ValueError>([&] { sqrt(N); }) == "sqrt(N): entry (0, 1) = -0.5 is negative");
    CHECK(contains(message_of<xg::ValueError>([&] { pow(N, 0.5); }),
                   "pow(N): entry (0, 1) = -0.5 is negative and the exponent is not an integer"));
    CHECK(contains(message_of<xg::ValueError>([&] { pow(Z, -1.0); }), "entry (0, 1) = 0 is 0 and the exponent is negative"));
    CHECK(pow(N, 2.0).value() == Matrix<double>{{1.0, 0.25}});  // integer exponents take negative bases
    CHECK(sqrt(Z).value() == Matrix<double>{{1.0, 0.0}});       // √0 = 0 is allowed
    // A NaN is not outside a domain: it goes through as NaN.
    auto Q = g.input(Matrix<double>{{std::nan(""), 4.0}}, "Q");
    for (const xg::Var<double>& y : {log(Q), sqrt(Q), pow(Q, 0.5), pow(Q, -1.0), 1.0 / Q, A / Q}) {
        CHECK(std::isnan(y.value()(0, 0)));
        CHECK(std::isfinite(y.value()(y.shape().rows - 1, 1)));
    }

    // Checked again on replay, naming the node.
    auto P = g.input(Matrix<double>{{1.0, 2.0}}, "P");
    log(P).named("L");
    g.set_value(P, Matrix<double>{{1.0, -2.0}});
    CHECK(message_of<xg::ValueError>([&] { g.forward(); }) == "L = log(P): entry (0, 1) = -2 is not positive");
}

TEST_CASE("identity-gradient ops between op nodes: sub, the number forms, sum, pow(X, 1)") {
    // Each op here sends its input exactly the incoming gradient (grad_formula is
    // grad()), the case in which an engine may let input and output share one
    // gradient buffer. Chains of them between op nodes must still be right.
    std::mt19937_64 rng(17);
    xg::Graph<double> g;
    auto X = g.parameter(uniform(3, 4, rng, 0.5, 1.5), "X");
    auto B = g.parameter(randn(3, 1, rng), "B");
    auto chain = pow(((tanh(X) - B) + 1.0) - 2.0, 1.0);
    check_grads(g, weighted_sum(chain, rng));
    auto R = sum(tanh(X), xg::Axis::over_rows);      // 1 × 4 → Σ_rows of a 1 × 4 op node
    auto S = sum(sum(R, xg::Axis::over_rows));       // the same shape in and out, twice
    auto C = sum(exp(sum(tanh(X), xg::Axis::over_cols)), xg::Axis::over_cols);  // 3 × 1 → 3 × 1
    check_grads(g, S + weighted_sum(C, rng) + sum(1.0 + (sum(X) - 0.5)));
}
