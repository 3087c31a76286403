// Checking a hand-written backward with the gradient checker: softsign,
// y = x / (1 + |x|), once right and once with a deliberate mistake.
// Shown in docs/howto-gradient-check.md.
#include <cmath>
#include <cstdio>
#include <memory>

#include <xgrad/xgrad.hpp>

// y = x / (1 + |x|);  dx = g / (1 + |x|)²
// With forget_square, the backward divides by (1 + |x|) only: the mistake to catch.
class Softsign final : public xg::Op<double> {
public:
    explicit Softsign(bool forget_square = false) : forget_square_(forget_square) {}

    std::string name() const override { return "softsign"; }
    xg::Shape shape(const xg::ShapeContext& c) const override {
        c.require_arity(1);
        return c.shape(0);
    }
    void forward(const xg::ForwardContext<double>& c) const override {
        const xg::ConstView<double> x = c.in(0);
        for (std::size_t k = 0; k < x.size(); ++k) c.out()[k] = x[k] / (1 + std::fabs(x[k]));
    }
    void backward(xg::BackwardContext<double>& c) const override {
        const xg::ConstView<double> x = c.in(0), g = c.dout();
        c.grad(0).store([&](std::size_t k) {
            const double d = 1 + std::fabs(x[k]);
            return forget_square_ ? g[k] / d : g[k] / (d * d);
        });
    }
    xg::sym::Expr formula() const override {
        using namespace xg::sym;
        return in(0) / (1.0 + fn({"abs", "abs", "\\operatorname{abs}"}, in(0)));
    }
    xg::sym::Expr grad_formula(std::size_t) const override {
        using namespace xg::sym;
        return grad() / square(1.0 + fn({"abs", "abs", "\\operatorname{abs}"}, in(0)));
    }

private:
    bool forget_square_;
};

xg::Var<double> softsign(xg::Var<double> x, bool forget_square = false) {
    return x.graph().apply(std::make_shared<const Softsign>(forget_square), {x});
}

int main() {
    // A graph in float64 whose loss depends on the op: J = Σ C ⊙ softsign(W X + b).
    xg::Graph<double> g;
    auto X = g.input(xg::Matrix<double>{{1.0, -2.0, 0.5}, {0.3, 0.8, -1.0}}, "X");
    auto W = g.parameter(xg::Matrix<double>{{0.7, -1.2}, {2.5, 0.4}}, "W");
    auto b = g.parameter(xg::Matrix<double>{{0.1}, {-0.3}}, "b");
    auto C = g.input(xg::Matrix<double>{{1.0, -0.5, 2.0}, {0.25, 1.5, -1.0}}, "C");
    auto J = sum(C * softsign(matmul(W, X) + b)).named("J");

    // Every parameter, central differences in float64, one report.
    const xg::GradCheckReport report = xg::check_gradients(g, J);
    std::printf("softsign: %s, worst relative error below 1e-8: %s\n", report.ok() ? "ok" : "FAILED",
                report.max_rel_err() < 1e-8 ? "yes" : "no");

    // The same network with the square forgotten in the backward.
    auto J_wrong = sum(C * softsign(matmul(W, X) + b, true)).named("J_wrong");
    const xg::GradCheckReport wrong = xg::check_gradients(g, J_wrong);
    std::printf("%s\n", wrong.str().c_str());

    // In a test: throw, with the report as the message, unless every parameter passes.
    try {
        xg::require_gradients_ok(g, J_wrong, {W});
    } catch (const xg::GradientCheckError& e) {
        std::printf("caught GradientCheckError: %s %s\n", e.report().entries[0].name.c_str(),
                    e.report().ok() ? "passed" : "failed");
    }

    // detach: a constant for backward(), and for the checker. J_d = Σ C ⊙ (Z ⊙ detach(Z)), Z = W X + b.
    auto Z = matmul(W, X) + b;
    auto J_d = sum(C * (Z * xg::detach(Z))).named("J_d");
    std::printf("with detach: %s\n", xg::check_gradients(g, J_d).ok() ? "ok" : "FAILED");
    auto J_dw = sum(C * (softsign(Z, true) + Z * xg::detach(Z))).named("J_dw");
    std::printf("with detach and the wrong softsign: %s\n", xg::check_gradients(g, J_dw).ok() ? "ok" : "FAILED");
}
