// explain and to_dot: the printed derivation of the two-layer network against
// golden text; for every row of the op table (tests/op_table.hpp), the
// printed equations, evaluated as matrix programs, against the engine's own
// values and gradients; graphs that compose ops (broadcasting, fusion,
// inlining, user-defined ops) against expected text and the same evaluation;
// the DOT output rendered by `dot`.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <random>
#include <set>
#include <sstream>

#include "helpers.hpp"
#include "op_table.hpp"
#include "sym_eval.hpp"

using xg::Matrix;
using xg::Var;
using xg::sym::Style;
using namespace xgt;

namespace {

using G = xg::Graph<double>;
using V = Var<double>;

// ---- the two-layer network of the lecture -----------------------------------

template <class T = double>
struct TwoLayer {
    xg::Graph<T> g;
    Var<T> X, Y, W1, b1, W2, b2, Z1, A1, Z2, A2, J;

    TwoLayer(std::size_t n0, std::size_t n1, std::size_t n2, std::size_t m, std::mt19937_64& rng) {
        X = g.input(randn<T>(n0, m, rng), "X");
        Y = g.input(labels01<T>(n2, m, rng), "Y");
        W1 = g.parameter(randn<T>(n1, n0, rng), "W1");
        b1 = g.parameter(randn<T>(n1, 1, rng), "b1");
        W2 = g.parameter(randn<T>(n2, n1, rng), "W2");
        b2 = g.parameter(randn<T>(n2, 1, rng), "b2");
        Z1 = (matmul(W1, X) + b1).named("Z1");
        A1 = tanh(Z1).named("A1");
        Z2 = (matmul(W2, A1) + b2).named("Z2");
        A2 = sigmoid(Z2).named("A2");
        J = binary_cross_entropy(A2, Y).named("J");
    }
};

const char* const two_layer_unicode = R"(forward:
  Z1 = W1 · X + b1
  A1 = tanh(Z1)
  Z2 = W2 · A1 + b2
  A2 = σ(Z2)
  J  = −(1 / m) Σ(Y ⊙ log(A2) + (1 − Y) ⊙ log(1 − A2))
backward:
  dZ2 = (A2 − Y) / m
  dW2 = dZ2 · A1ᵀ
  db2 = Σ_columns dZ2
  dA1 = W2ᵀ · dZ2
  dZ1 = dA1 ⊙ (1 − A1²)
  dW1 = dZ1 · Xᵀ
  db1 = Σ_columns dZ1
)";

const char* const two_layer_ascii = R"(forward:
  Z1 = W1 @ X + b1
  A1 = tanh(Z1)
  Z2 = W2 @ A1 + b2
  A2 = sigmoid(Z2)
  J  = -(1 / m) * sum(Y * log(A2) + (1 - Y) * log(1 - A2))
backward:
  dZ2 = (A2 - Y) / m
  dW2 = dZ2 @ A1.T
  db2 = sum(dZ2, axis=1, keepdims=True)
  dA1 = W2.T @ dZ2
  dZ1 = dA1 * (1 - A1^2)
  dW1 = dZ1 @ X.T
  db1 = sum(dZ1, axis=1, keepdims=True)
)";

const char* const two_layer_latex = R"(% forward
\begin{aligned}
Z_{1} &= W_{1} \cdot X + b_{1} \\
A_{1} &= \tanh\left(Z_{1}\right) \\
Z_{2} &= W_{2} \cdot A_{1} + b_{2} \\
A_{2} &= \sigma\left(Z_{2}\right) \\
J &= -\frac{1}{m} \sum\left(Y \odot \log\left(A_{2}\right) + \left(1 - Y\right) \odot \log\left(1 - A_{2}\right)\right)
\end{aligned}
% backward
\begin{aligned}
dZ_{2} &= \frac{A_{2} - Y}{m} \\
dW_{2} &= dZ_{2} \cdot A_{1}^\top \\
db_{2} &= \sum_{\text{columns}} dZ_{2} \\
dA_{1} &= W_{2}^\top \cdot dZ_{2} \\
dZ_{1} &= dA_{1} \odot \left(1 - A_{1}^{2}\right) \\
dW_{1} &= dZ_{1} \cdot X^\top \\
db_{1} &= \sum_{\text{columns}} dZ_{1}
\end{aligned}
)";

const char* const two_layer_shapes = R"(leaves:
  X   input      [2×7]
  Y   input      [3×7]
  W1  parameter  [4×2]
  b1  parameter  [4×1]
  W2  parameter  [3×4]
  b2  parameter  [3×1]
forward:
  Z1 = W1 · X + b1                                       [4×7]
  A1 = tanh(Z1)                                          [4×7]
  Z2 = W2 · A1 + b2                                      [3×7]
  A2 = σ(Z2)                                             [3×7]
  J  = −(1 / m) Σ(Y ⊙ log(A2) + (1 − Y) ⊙ log(1 − A2))   [1×1]
backward:
  dZ2 = (A2 − Y) / m      [3×7]
  dW2 = dZ2 · A1ᵀ         [3×4]
  db2 = Σ_columns dZ2     [3×1]
  dA1 = W2ᵀ · dZ2         [4×7]
  dZ1 = dA1 ⊙ (1 − A1²)   [4×7]
  dW1 = dZ1 · Xᵀ          [4×2]
  db1 = Σ_columns dZ1     [4×1]
)";

// Every node: the unnamed products get lines, and so does the seed dJ = 1.
const char* const two_layer_all = R"(forward:
  t6 = W1 · X
  Z1 = t6 + b1
  A1 = tanh(Z1)
  t9 = W2 · A1
  Z2 = t9 + b2
  A2 = σ(Z2)
  J  = −(1 / m) Σ(Y ⊙ log(A2) + (1 − Y) ⊙ log(1 − A2))
backward:
  dJ  = 1
  dZ2 = (A2 − Y) / m
  db2 = Σ_columns dZ2
  dt9 = dZ2
  dW2 = dt9 · A1ᵀ
  dA1 = W2ᵀ · dt9
  dZ1 = dA1 ⊙ (1 − A1²)
  db1 = Σ_columns dZ1
  dt6 = dZ1
  dW1 = dt6 · Xᵀ
)";

/// Every equation of the derivation, evaluated as a matrix program from the
/// engine's values (and, for backward lines, its gradients after
/// g.backward(loss)), equals the value or gradient the engine computed. A
/// result smaller than the node is broadcast to it first: a reduction's
/// gradient (dX = dS for S = Σ_columns X) writes that broadcast implicitly.
void check_equations_compute(const G& g, const xg::Explanation& d, SymEnv env) {
    for (const xg::Equation& q : d.forward) {
        CAPTURE(q.lhs);
        CHECK(rel_err(broadcast_to(sym_eval(q.rhs, env), q.shape), g.value(q.node)) <= 1e-12);
        CHECK(q.shape == g.shape(q.node));
    }
    for (const xg::Equation& q : d.backward) {
        CAPTURE(q.lhs);
        REQUIRE(g.has_grad(q.node));
        CHECK(grad_rel_err(broadcast_to(sym_eval(q.rhs, env), q.shape), g.grad(q.node)) <= 1e-12);
        CHECK(q.shape == g.shape(q.node));
    }
}

/// With every node shown, the backward lines are exactly the nodes the
/// engine's sweep gave a gradient (among the loss's ancestors).
void check_mirrors_the_sweep(const G& g, V loss) {
    const xg::Explanation all = xg::derive(loss, true);
    std::set<std::uint32_t> lines, swept;
    for (const xg::Equation& q : all.backward) lines.insert(q.node);
    std::set<std::uint32_t> ancestors{loss.id()};
    for (std::uint32_t id = loss.id() + 1; id-- > 0;) {
        if (!ancestors.count(id)) continue;
        for (std::uint32_t in : g.inputs(id)) ancestors.insert(in);
        if (g.has_grad(id)) swept.insert(id);
    }
    CHECK(lines == swept);
}

std::string backward_text(const std::string& s) { return s.substr(s.find("backward:")); }
std::string forward_text(const std::string& s) { return s.substr(0, s.find("backward:")); }

// ---- user-defined ops, as a user would write them -----------------------------

// y = softplus(x) = log(1 + eˣ);  dx = g ⊙ σ(x)
template <class T>
class Softplus final : public xg::Op<T> {
public:
    std::string name() const override { return "softplus"; }
    xg::Shape shape(const xg::ShapeContext& c) const override {
        c.require_arity(1);
        return c.shape(0);
    }
    void forward(const xg::ForwardContext<T>& c) const override {
        for (std::size_t k = 0; k < c.in(0).size(); ++k) {
            const T x = c.in(0)[k];
            c.out()[k] = std::max(x, T(0)) + std::log1p(std::exp(-std::fabs(x)));
        }
    }
    void backward(xg::BackwardContext<T>& c) const override {
        c.grad(0).store([&](std::size_t k) { return c.dout()[k] / (T(1) + std::exp(-c.in(0)[k])); });
    }
    xg::sym::Expr formula() const override {
        return xg::sym::fn({"softplus", "softplus", "\\operatorname{softplus}"}, xg::sym::in(0));
    }
    xg::sym::Expr grad_formula(std::size_t) const override {
        return xg::sym::grad() * xg::sym::fn({"σ", "sigmoid", "\\sigma"}, xg::sym::in(0));
    }
};

// J = (1 / 2m) Σ (A − Y)²;  dA = g (A − Y) / m;  Y is data (no gradient)
template <class T>
class HalfSquaredError final : public xg::Op<T> {
public:
    std::string name() const override { return "half_squared_error"; }
    bool differentiable(std::size_t i) const override { return i == 0; }
    xg::Shape shape(const xg::ShapeContext& c) const override {
        c.require_arity(2);
        c.require_same(0, 1);
        return xg::Shape{1, 1};
    }
    void forward(const xg::ForwardContext<T>& c) const override {
        T s = 0;
        for (std::size_t k = 0; k < c.in(0).size(); ++k) s += (c.in(0)[k] - c.in(1)[k]) * (c.in(0)[k] - c.in(1)[k]);
        c.out()[0] = s / T(2 * c.in(0).cols);
    }
    void backward(xg::BackwardContext<T>& c) const override {
        const T g = c.dout()[0], m = T(c.in(0).cols);
        c.grad(0).store([&](std::size_t k) { return g * (c.in(0)[k] - c.in(1)[k]) / m; });
    }
    xg::sym::Expr formula() const override {
        using namespace xg::sym;
        return scale(div(num(1), 2.0 * m()), fn({"Σ", "sum", "\\sum"}, square(in(0) - in(1)), true));
    }
    xg::sym::Expr grad_formula(std::size_t) const override {
        using namespace xg::sym;
        return scale(grad(), div(in(0) - in(1), m()));
    }
};

// ---- graphs that compose ops ------------------------------------------------------
//
// One case per graph: how to build it (returning its loss), the forward and
// backward text it must print, and what the evaluator must know beyond the
// built-in functions and m. Each op on its own is a row of the op table
// (tests/op_table.hpp); these cases are about how explain puts ops together:
// gradients summed over broadcast axes, the fused cross-entropy, nodes read
// twice, unnamed nodes inlined, user-defined ops.

struct Case {
    const char* what;
    std::function<V(G&, std::mt19937_64&)> build;
    const char* forward;
    const char* backward;
    std::function<void(SymEnv&)> teach = [](SymEnv&) {};
};

constexpr std::size_t m_cols = 6;  // every case has m = 6 examples

const std::vector<Case>& cases() {
    static const std::vector<Case> table = {
        {"add broadcasting a row and a scalar; binary_cross_entropy_with_logits",
         [](G& g, std::mt19937_64& rng) {
             auto X = g.input(randn(3, m_cols, rng), "X");
             auto Y = g.input(labels01(2, m_cols, rng), "Y");
             auto W = g.parameter(randn(2, 3, rng), "W");
             auto r = g.parameter(randn(1, m_cols, rng), "r");
             auto s = g.parameter(randn(1, 1, rng), "s");
             auto U = (matmul(W, X) + r).named("U");
             auto Z = (U + s).named("Z");
             return binary_cross_entropy_with_logits(Z, Y).named("J");
         },
         "forward:\n"
         "  U = W · X + r\n"
         "  Z = U + s\n"
         "  J = −(1 / m) Σ(Y ⊙ log(σ(Z)) + (1 − Y) ⊙ log(1 − σ(Z)))\n",
         "backward:\n"
         "  dZ = (σ(Z) − Y) / m\n"
         "  ds = Σ_all dZ\n"
         "  dU = dZ\n"
         "  dW = dU · Xᵀ\n"
         "  dr = Σ_rows dU\n"},
        {"add broadcasting both operands (column + row)",
         [](G& g, std::mt19937_64& rng) {
             auto Y = g.input(labels01(4, m_cols, rng), "Y");
             auto c = g.parameter(randn(4, 1, rng), "c");
             auto q = g.parameter(randn(1, m_cols, rng), "q");
             auto P = (c + q).named("P");
             return binary_cross_entropy_with_logits(P, Y).named("J");
         },
         "forward:\n"
         "  P = c + q\n"
         "  J = −(1 / m) Σ(Y ⊙ log(σ(P)) + (1 − Y) ⊙ log(1 − σ(P)))\n",
         "backward:\n"
         "  dP = (σ(P) − Y) / m\n"
         "  dc = Σ_columns dP\n"
         "  dq = Σ_rows dP\n"},
        {"sigmoid not fused (its output is not a cross-entropy's input)",
         [](G& g, std::mt19937_64& rng) {
             auto X = g.input(randn(3, m_cols, rng), "X");
             auto Y = g.input(labels01(2, m_cols, rng), "Y");
             auto W = g.parameter(randn(2, 3, rng), "W");
             auto Z = matmul(W, X).named("Z");
             auto A = sigmoid(Z).named("A");
             return binary_cross_entropy_with_logits(A, Y).named("J");
         },
         "forward:\n"
         "  Z = W · X\n"
         "  A = σ(Z)\n"
         "  J = −(1 / m) Σ(Y ⊙ log(σ(A)) + (1 − Y) ⊙ log(1 − σ(A)))\n",
         "backward:\n"
         "  dA = (σ(A) − Y) / m\n"
         "  dZ = dA ⊙ A ⊙ (1 − A)\n"
         "  dW = dZ · Xᵀ\n"},
        {"binary_cross_entropy of a probability (not fused)",
         [](G& g, std::mt19937_64& rng) {
             auto Y = g.input(labels01(2, m_cols, rng), "Y");
             auto P = g.parameter(uniform(2, m_cols, rng, 0.1, 0.9), "P");
             return binary_cross_entropy(P, Y).named("J");
         },
         "forward:\n"
         "  J = −(1 / m) Σ(Y ⊙ log(P) + (1 − Y) ⊙ log(1 − P))\n",
         "backward:\n"
         "  dP = (P − Y) / (m P ⊙ (1 − P))\n"},
        {"a node read by two ops, and twice by one op: its gradient is the sum",
         [](G& g, std::mt19937_64& rng) {
             auto X = g.input(randn(3, m_cols, rng), "X");
             auto Y = g.input(labels01(2, m_cols, rng), "Y");
             auto W = g.parameter(randn(2, 3, rng), "W");
             auto Z = matmul(W, X).named("Z");
             auto A = tanh(Z).named("A");
             auto B = (A + Z).named("B");
             auto S = (B + B).named("S");
             return binary_cross_entropy_with_logits(S, Y).named("J");
         },
         "forward:\n"
         "  Z = W · X\n"
         "  A = tanh(Z)\n"
         "  B = A + Z\n"
         "  S = B + B\n"
         "  J = −(1 / m) Σ(Y ⊙ log(σ(S)) + (1 − Y) ⊙ log(1 − σ(S)))\n",
         "backward:\n"
         "  dS = (σ(S) − Y) / m\n"
         "  dB = dS + dS\n"
         "  dA = dB\n"
         "  dZ = dB + dA ⊙ (1 − A²)\n"
         "  dW = dZ · Xᵀ\n"},
        {"unnamed nodes: inlined when used once, given lines when their gradient needs one",
         [](G& g, std::mt19937_64& rng) {
             auto X = g.input(randn(3, m_cols, rng), "X");
             auto Y = g.input(labels01(1, m_cols, rng), "Y");
             auto W1 = g.parameter(randn(4, 3, rng), "W1");
             auto W2 = g.parameter(randn(1, 4, rng), "W2");
             auto b2 = g.parameter(randn(1, 1, rng), "b2");
             auto Z1 = matmul(W1, X).named("Z1");
             auto Z2 = (matmul(W2, tanh(Z1)) + b2).named("Z2");
             return binary_cross_entropy(sigmoid(Z2), Y).named("J");
         },
         "forward:\n"
         "  Z1 = W1 · X\n"
         "  t6 = tanh(Z1)\n"
         "  Z2 = W2 · t6 + b2\n"
         "  J  = −(1 / m) Σ(Y ⊙ log(σ(Z2)) + (1 − Y) ⊙ log(1 − σ(Z2)))\n",
         "backward:\n"
         "  dZ2 = (σ(Z2) − Y) / m\n"
         "  dW2 = dZ2 · t6ᵀ\n"
         "  db2 = Σ_columns dZ2\n"
         "  dt6 = W2ᵀ · dZ2\n"
         "  dZ1 = dt6 ⊙ (1 − t6²)\n"
         "  dW1 = dZ1 · Xᵀ\n"},
        {"user-defined ops: softplus, and a loss with a label input",
         [](G& g, std::mt19937_64& rng) {
             auto X = g.input(randn(3, m_cols, rng), "X");
             auto Y = g.input(randn(2, m_cols, rng), "Y");
             auto W = g.parameter(randn(2, 3, rng), "W");
             auto Z = matmul(W, X).named("Z");
             auto A = g.apply(std::make_shared<const Softplus<double>>(), {Z}, "A");
             return g.apply(std::make_shared<const HalfSquaredError<double>>(), {A, Y}, "J");
         },
         "forward:\n"
         "  Z = W · X\n"
         "  A = softplus(Z)\n"
         "  J = (1 / (2 m)) Σ (A − Y)²\n",
         "backward:\n"
         "  dA = (A − Y) / m\n"
         "  dZ = dA ⊙ σ(Z)\n"
         "  dW = dZ · Xᵀ\n",
         [](SymEnv& env) { env.functions["softplus"] = [](double x) { return std::log1p(std::exp(x)); }; }},
    };
    return table;
}

/// Run `dot -Tsvg` on `text`; returns dot's exit status and fills `svg`
/// and `errors` with its output and diagnostics.
int render_with_dot(const std::string& text, std::string& svg, std::string& errors) {
    char dir[] = "/tmp/xgrad-dot-XXXXXX";
    REQUIRE(mkdtemp(dir) != nullptr);
    const std::string base = dir, in = base + "/g.dot", out = base + "/g.svg", err = base + "/err.txt";
    std::ofstream(in) << text;
    const int status = std::system(("dot -Tsvg '" + in + "' -o '" + out + "' 2>'" + err + "'").c_str());
    std::stringstream s, e;
    s << std::ifstream(out).rdbuf();
    e << std::ifstream(err).rdbuf();
    svg = s.str();
    errors = e.str();
    std::remove(in.c_str());
    std::remove(out.c_str());
    std::remove(err.c_str());
    std::remove(dir);
    return status;
}

}  // namespace

// ---- the two-layer network --------------------------------------------------------

TEST_CASE("explain: the two-layer network prints the lecture's equations") {
    std::mt19937_64 rng(11);
    TwoLayer<> net(2, 4, 3, 7, rng);
    CHECK(xg::explain(net.J) == two_layer_unicode);
    CHECK(xg::explain(net.J, {Style::ascii}) == two_layer_ascii);
    CHECK(xg::explain(net.J, {Style::latex}) == two_layer_latex);
    CHECK(xg::explain(net.J, {Style::unicode, true}) == two_layer_shapes);
    CHECK(xg::explain(net.J, {Style::unicode, false, true}) == two_layer_all);
}

TEST_CASE("explain: a name with a combining mark (Z̃1) takes its visible width in the aligned columns") {
    CHECK(xg::sym::text_width("Z̃1") == 2);
    CHECK(xg::sym::text_width("X̂1") == 2);
    CHECK(xg::sym::text_width("dA1ᵀ") == 4);
    CHECK(xg::sym::text_width("γ1 ⊙ Σ") == 6);
    CHECK(xg::sym::text_width("") == 0);
    CHECK(xg::sym::text_width("\xCC") == 1);  // a lone lead byte at the end still counts
    G g;
    auto X = g.input(Matrix<double>{{1.0, 2.0}, {3.0, -1.0}}, "X");
    auto Zt = tanh(X).named("Z̃1");
    auto A = sigmoid(Zt).named("A1");
    auto J = sum(A).named("J");
    // Every "=" of the forward block sits in the same column.
    const std::string text = xg::explain(J);
    std::istringstream lines(text.substr(0, text.find("backward:")));
    std::set<std::size_t> columns;
    for (std::string line; std::getline(lines, line);) {
        const std::size_t eq = line.find(" = ");
        if (eq != std::string::npos) columns.insert(xg::sym::text_width(line.substr(0, eq)));
    }
    CHECK(columns.size() == 1);
    CHECK(text.find("  Z̃1 = tanh(X)") != std::string::npos);
}

TEST_CASE("explain: the printed two-layer equations compute the engine's gradients") {
    std::mt19937_64 rng(12);
    for (std::size_t m : {1, 5}) {
        TwoLayer<> net(3, 4, 2, m, rng);
        net.g.backward(net.J);
        SymEnv env = SymEnv::of(net.g);
        env.symbols["m"] = double(m);
        check_equations_compute(net.g, xg::derive(net.J), env);
        check_equations_compute(net.g, xg::derive(net.J, true), env);
        check_mirrors_the_sweep(net.g, net.J);
    }
}

TEST_CASE("explain: dA2 is never printed: the fused cross-entropy sends its gradient straight to Z2") {
    std::mt19937_64 rng(13);
    TwoLayer<> net(2, 3, 1, 4, rng);
    const xg::Explanation d = xg::derive(net.J, true);
    for (const xg::Equation& q : d.backward) CHECK(q.node != net.A2.id());
    CHECK(xg::explain(net.J).find("dA2") == std::string::npos);
    // The inputs need no gradient and get no equation.
    for (const xg::Equation& q : d.backward) {
        CHECK(q.node != net.X.id());
        CHECK(q.node != net.Y.id());
    }
    REQUIRE(d.leaves.size() == 6);
    CHECK(d.leaves[0].name == "X");
    CHECK(d.leaves[0].kind == xg::NodeKind::input);
    CHECK(d.leaves[2].name == "W1");
    CHECK(d.leaves[2].kind == xg::NodeKind::parameter);
}

TEST_CASE("explain: float graphs print the same equations") {
    std::mt19937_64 rng(14);
    TwoLayer<float> net(2, 4, 3, 7, rng);
    CHECK(xg::explain(net.J) == two_layer_unicode);
    CHECK(xg::to_dot(net.J).find("digraph xgrad {") == 0);
}

// ---- every op, and user-defined ops --------------------------------------------

TEST_CASE("explain: every op prints its own formulas, and the printed equations compute the engine's results") {
    std::mt19937_64 rng(15);
    for (const Case& c : cases()) {
        CAPTURE(c.what);
        G g;
        const V J = c.build(g, rng);
        const std::string text = xg::explain(J);
        CHECK(forward_text(text) == c.forward);
        CHECK(backward_text(text) == c.backward);

        g.backward(J);
        SymEnv env = SymEnv::of(g);
        env.symbols["m"] = double(m_cols);
        c.teach(env);
        check_equations_compute(g, xg::derive(J), env);
        check_equations_compute(g, xg::derive(J, true), env);
        check_mirrors_the_sweep(g, J);
        // Every style renders every equation.
        CHECK(xg::explain(J, {Style::ascii, true}).find("backward:") != std::string::npos);
        CHECK(xg::explain(J, {Style::latex, true, true}).find("\\end{aligned}") != std::string::npos);
    }
}

TEST_CASE("explain: every row of the op table prints its equation, and the equations compute the engine's results") {
    std::mt19937_64 rng(18);
    const xgt::op_table::Dims d{3, 4, 2};
    for (const xgt::op_table::Row& r : xgt::op_table::rows()) {
        CAPTURE(r.name);
        const xgt::op_table::Values v = xgt::op_table::sample(r, d, rng);
        G g;
        std::vector<V> leaves;
        for (std::size_t i = 0; i < r.arity(); ++i) {
            leaves.push_back(r.differentiable[i] ? g.parameter(v[i], r.inputs[i]) : g.input(v[i], r.inputs[i]));
        }
        const V y = r.build(leaves, r.attr).named(r.out);
        V J = y;
        if (!r.scalar) {
            const xg::Shape s = y.shape();
            J = sum((y * g.input(randn(s.rows, s.cols, rng), "R")).named("S")).named("J");
        }
        const std::string text = xg::explain(J);
        CHECK(forward_text(text).find("  " + r.out + " = " + r.formula + "\n") != std::string::npos);

        if (g.requires_grad(J.id())) g.backward(J);
        SymEnv env = SymEnv::of(g);
        env.symbols["m"] = double(d.m);
        env.symbols["n"] = double(d.n);
        if (r.teach) {
            xgt::op_table::Values in;
            for (std::uint32_t j : g.inputs(y.id())) in.push_back(g.value(j));
            xgt::op_table::Functions f;
            r.teach(f, in, r.attr);
            for (auto& [name, fn] : f) env.matrix_functions[name] = fn;
        }
        if (r.teach_named) {
            xgt::op_table::Named n;
            r.teach_named(n, g, y.id(), r.attr);
            for (auto& [name, m] : n.vars) env.vars[name] = m;
            for (auto& [name, v] : n.symbols) env.symbols[name] = v;
        }
        check_equations_compute(g, xg::derive(J), env);
        check_equations_compute(g, xg::derive(J, true), env);
        check_mirrors_the_sweep(g, J);
    }
}

TEST_CASE("explain: a graph without parameters has no backward equations; a non-scalar loss is refused; a parameter loss") {
    G g;
    auto x = g.input(Matrix<double>{{0.5, -1.0}}, "x");
    auto y = g.input(Matrix<double>{{1.0, 0.0}}, "y");
    auto J = binary_cross_entropy_with_logits(x, y).named("J");
    CHECK(backward_text(xg::explain(J)) == "backward:\n  (no node needs a gradient)\n");
    CHECK_THROWS_AS(xg::explain(x), xg::GraphError);
    CHECK_THROWS_WITH(xg::explain(x), doctest::Contains("the loss must be a 1x1 node"));
    CHECK_THROWS_AS(xg::to_dot(x), xg::GraphError);
    // A 1 × 1 parameter as its own loss: its gradient is the seed.
    auto p = g.parameter(Matrix<double>{{2.0}}, "p");
    CHECK(xg::explain(p) == "forward:\n  (no op node)\nbackward:\n  dp = 1\n");
}

TEST_CASE("explain: a chain of 100 000 unnamed nodes prints line by line, without deep recursion") {
    G g;
    auto y = g.input(Matrix<double>{{1.0}}, "y");
    auto w = g.parameter(Matrix<double>{{0.1}}, "w");
    auto b = g.parameter(Matrix<double>{{0.0}}, "b");
    V z = w;
    for (int k = 0; k < 100000; ++k) z = z + b;  // unnamed, each read once, identity gradients
    auto J = binary_cross_entropy_with_logits(z, y).named("J");
    const xg::Explanation d = xg::derive(J);
    // Folded: every add shares the gradient of the last one; b's gradient sums 100 000 contributions.
    REQUIRE(d.backward.size() == 3);
    CHECK(d.backward[0].lhs == "d" + g.name(J.id() - 1));
    CHECK(d.backward[1].lhs == "dw");
    CHECK(d.backward[2].lhs == "db");
    // Inlined at most 8 ops deep: the chain prints as lines of 9 adds, then J.
    CHECK(d.forward.size() == (100000 + 8) / 9 + 1);
    const std::string text = xg::explain(J);
    CHECK(text.size() > 100000);
}

// ---- the formula pieces explain uses ---------------------------------------------

TEST_CASE("formulas: variables, bindings, sums over broadcast axes, simplification") {
    using namespace xg::sym;
    const Names none;
    CHECK(render(var("W1"), none, Style::latex) == "W_{1}");
    CHECK(render(sum_columns(var("dZ2")), none) == "Σ_columns dZ2");
    CHECK(render(sum_rows(var("dZ")), none, Style::ascii) == "sum(dZ, axis=0, keepdims=True)");
    CHECK(render(sum_all(var("a") + var("b")), none) == "Σ_all(a + b)");
    CHECK(render(sum_all(var("a") + var("b")), none, Style::ascii) == "sum(a + b, keepdims=True)");
    const Expr e = bind_placeholders(grad() * (1.0 - square(out())), Bindings{{}, var("A1"), var("dA1")});
    CHECK(render(e, none) == "dA1 ⊙ (1 − A1²)");
    // Inlined operands keep their meaning: parentheses where precedence needs them.
    const Expr t = bind_placeholders(dot(grad(), transpose(in(1))), Bindings{{var("W"), var("X") + var("b")}, nullptr, var("dZ")});
    CHECK(render(t, none) == "dZ · (X + b)ᵀ");
    CHECK(render(simplify(scale(num(1), div(var("x"), num(1)))), none) == "x");
    CHECK(render(simplify(neg(neg(var("x")))), none) == "x");
    CHECK(render(simplify(var("a") + -var("b")), none) == "a − b");
    // After a scalar factor, ⊙ and · need no parentheses; a quotient keeps them.
    CHECK(render(scale(m(), var("P") * (1.0 - var("P"))), none) == "m P ⊙ (1 − P)");
    CHECK(render(scale(var("dJ"), div(var("A") - var("Y"), m())), none) == "dJ ((A − Y) / m)");
    CHECK(render(div(var("a"), var("b")) * var("c"), none, Style::latex) == "\\frac{a}{b} \\odot c");
    CHECK(render(scale(div(num(1), m()), var("S")), none, Style::ascii) == "(1 / m) * S");
}

// ---- DOT ---------------------------------------------------------------------------

TEST_CASE("to_dot: every node with its name, op and shape; forward edges and the gradient flow; valid for dot") {
    std::mt19937_64 rng(16);
    TwoLayer<> net(2, 4, 1, 5, rng);
    const std::string dot = xg::to_dot(net.J);
    CHECK(dot.find("n7 [label=\"Z1\\nadd  4×5\"") != std::string::npos);
    CHECK(dot.find("n2 [label=\"W1\\nparameter  4×2\"") != std::string::npos);
    CHECK(dot.find("n0 [label=\"X\\ninput  2×5\"") != std::string::npos);
    CHECK(dot.find("n12 [label=\"J\\nbinary_cross_entropy  1×1\"") != std::string::npos);
    // 13 forward edges (one per input slot) and 9 gradient contributions.
    std::size_t forward = 0, gradient = 0;
    std::istringstream lines(dot);
    for (std::string l; std::getline(lines, l);) {
        if (l.find(" -> ") == std::string::npos) continue;
        (l.find("dir=back") != std::string::npos ? gradient : forward)++;
    }
    CHECK(forward == 13);
    CHECK(gradient == 9);
    CHECK(dot.find("n5 -> n10 [dir=back") != std::string::npos);
    CHECK(dot.find("label=\" Σ_columns dZ2 \"") != std::string::npos);
    CHECK(dot.find("n10 -> n12 [dir=back, style=dashed, color=\"#c0392b\", fontcolor=\"#c0392b\", label=\" (A2 − Y) / m \"]") !=
          std::string::npos);
    CHECK(dot.find("n11 -> n12 [dir=back") == std::string::npos);  // no gradient through A2

    std::string svg, errors;
    CHECK(render_with_dot(dot, svg, errors) == 0);
    CHECK(errors == "");
    CHECK(svg.find("<svg") != std::string::npos);
    CHECK(svg.find("Σ_columns dZ2") != std::string::npos);

    const std::string plain = xg::to_dot(net.J, {false, false});
    CHECK(plain.find("dir=back") == std::string::npos);
    CHECK(plain.find("n7 [label=\"Z1\\nadd\"") != std::string::npos);
    CHECK(render_with_dot(plain, svg, errors) == 0);
    CHECK(errors == "");
}

TEST_CASE("to_dot: names with quotes and backslashes are escaped; every case of the op table renders") {
    G g;
    auto x = g.input(Matrix<double>{{0.5, -1.0}}, "x \"in\\put\"");
    auto w = g.parameter(Matrix<double>{{2.0}}, "w");
    auto y = g.input(Matrix<double>{{1.0, 0.0}}, "y");
    auto J = binary_cross_entropy_with_logits(matmul(w, x), y).named("J");
    const std::string dot = xg::to_dot(J);
    CHECK(dot.find("label=\"x \\\"in\\\\put\\\"\\ninput  1×2\"") != std::string::npos);
    std::string svg, errors;
    CHECK(render_with_dot(dot, svg, errors) == 0);
    CHECK(errors == "");

    std::mt19937_64 rng(17);
    for (const Case& c : cases()) {
        CAPTURE(c.what);
        G h;
        const V L = c.build(h, rng);
        CHECK(render_with_dot(xg::to_dot(L), svg, errors) == 0);
        CHECK(errors == "");
    }
}
