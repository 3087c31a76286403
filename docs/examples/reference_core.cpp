// Examples of the reference pages for the engine (docs/reference/graph.md,
// tensor.md, error.md, op.md), one section each:
//
//   reference_core parameter   xg::Parameter
//   reference_core var         xg::Var
//   reference_core build       xg::Graph: building, running
//   reference_core inspect     xg::Graph: inspecting nodes
//   reference_core tensor      xg::Matrix, xg::Shape, views
//   reference_core errors      the exception types
//   reference_core op          a user-defined op with every part of xg::Op
//   reference_core plan        xg::BackwardPlan of the two-layer network
//
// Without an argument, every section in turn (see docs_helpers.hpp).
#include <cmath>
#include <cstdio>
#include <string>
#include <utility>

#include <xgrad/xgrad.hpp>

#include "docs_helpers.hpp"

namespace {

void parameter_section() {
    // A trainable matrix with its gradient, independent of any graph.
    xg::Parameter<double> W(xg::Matrix<double>{{1.0, 2.0}, {3.0, 4.0}}, "W");
    std::printf("%s is [%s], grad starts at %g\n", W.name().c_str(), to_string(W.shape()).c_str(), W.grad()(1, 1));

    xg::Parameter<double> same = W;  // a copy shares the storage
    same.value()(0, 0) = 10.0;
    std::printf("W(0, 0) = %g, same handle: %s\n", W.value()(0, 0), same == W ? "yes" : "no");

    xg::Graph<double> g;
    auto J = sum(square(g.parameter(W)));
    g.backward(J);
    docs::print("dW = 2 W", W.grad());
    W.zero_grad();
    docs::print("after zero_grad", W.grad());

    xg::Parameter<double> none;  // an empty handle
    std::printf("empty handle: %s\n", none ? "storage" : "no storage");

    // Which columns of a gradient may be non-zero: an embedding's sweep lists
    // the columns it wrote, and the next sweep clears only those.
    xg::Parameter<double> E(xg::Matrix<double>{{1, 2, 3, 4}, {5, 6, 7, 8}}, "E");
    xg::Graph<double> h;
    h.backward(sum(embedding(h.parameter(E), h.input(xg::Matrix<double>{{3, 1, 3}}, "ids"))));
    std::printf("columns known: %s, written:", E.grad_columns().known ? "yes" : "no");
    for (std::size_t c : E.grad_columns().columns) std::printf(" %zu", c);
    std::printf("\n");
    E.scale_grad(0.5);  // as clip_grad_norm does: zeros stay zeros, the list stays
    docs::print("dE / 2", std::as_const(E).grad());
    E.grad()(0, 0) = 1.0;  // write access: the list is forgotten
    std::printf("after write access, columns known: %s\n", E.grad_columns().known ? "yes" : "no");
}

void var_section() {
    xg::Graph<double> g;
    auto X = g.input(xg::Matrix<double>{{1.0, -2.0, 3.0}}, "X");
    auto A = relu(X);
    std::printf("node %u, unnamed: %s, [%s]\n", A.id(), A.name().c_str(), to_string(A.shape()).c_str());
    A.named("A");  // returns A, so it chains: relu(X).named("A")
    std::printf("named: %s, value %g %g %g, same graph: %s\n", A.name().c_str(), A.value()(0, 0), A.value()(0, 1),
                A.value()(0, 2), &A.graph() == &g ? "yes" : "no");

    xg::Var<double> empty;
    std::printf("default Var: %s\n", empty ? "a node" : "no node");
    try {
        empty.value();
    } catch (const xg::GraphError& e) {
        std::printf("GraphError: %s\n", e.what());
    }
}

void build_section() {
    xg::Parameter<double> W(xg::Matrix<double>{{0.5, -0.5}}, "W");
    xg::Graph<double> g;
    auto X = g.input(xg::Matrix<double>{{1.0, 2.0}, {3.0, 4.0}}, "X");  // data: no gradient
    auto w = g.parameter(W);                                            // a leaf for an existing Parameter
    auto b = g.parameter(xg::Matrix<double>{{0.25}}, "b");              // a new Parameter
    auto J = mean(matmul(w, X) + b).named("J");
    std::printf("J = %g\n", J.value()(0, 0));

    g.backward(J);  // overwrite (the default)
    g.backward(J, xg::GradMode::accumulate);
    docs::print("dW after two sweeps, the second accumulating", W.grad());

    g.set_value(X, xg::Matrix<double>{{0.0, 0.0, 1.0}, {1.0, 1.0, 1.0}});  // new data, new shape
    g.forward();
    std::printf("after set_value and forward: J = %g\n", J.value()(0, 0));

    g.check_numerics(true);
    std::printf("checking numerics: %s\n", g.checking_numerics() ? "on" : "off");
    (void)b;
}

void inspect_section() {
    xg::Graph<double> g;
    auto X = g.input(xg::Matrix<double>{{1.0, 2.0}}, "X");
    auto W = g.parameter(xg::Matrix<double>{{3.0}}, "W");
    auto Y = matmul(W, X);
    auto J = sum(Y).named("J");
    g.backward(J);

    for (std::uint32_t id = 0; id < g.size(); ++id) {
        const xg::Op<double>* op = g.op(id);
        std::printf("%u %-2s given '%s' %-9s %-6s inputs %zu  [%s]  requires_grad %d  has_grad %d\n", id,
                    g.name(id).c_str(), g.given_name(id).c_str(),
                    g.kind(id) == xg::NodeKind::input ? "input" : g.kind(id) == xg::NodeKind::parameter ? "parameter" : "op",
                    op ? op->name().c_str() : "-", g.inputs(id).size(), to_string(g.shape(id)).c_str(),
                    g.requires_grad(id), g.has_grad(id));
    }
    g.set_name(Y.id(), "Y");
    std::printf("node 2 is now %s; value(2)(0, 1) = %g; grad(1) = %g\n", g.var(2).name().c_str(), g.value(2)(0, 1),
                g.grad(W.id())(0, 0));
    std::printf("parameters: %zu, the first named %s, node 1's: %s\n", g.parameters().size(),
                g.parameters()[0].name().c_str(), g.parameter_of(1).name().c_str());
    (void)X;
}

void tensor_section() {
    // xg::Matrix<T> is xt::xtensor<T, 2>: every xtensor function applies.
    xg::Matrix<double> m = {{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}};
    const xg::Shape s = xg::shape_of(m);
    std::printf("shape %s: %zu rows, %zu cols, %zu entries; equal to 2x3: %s\n", xg::to_string(s).c_str(), s.rows,
                s.cols, s.size(), s == xg::Shape{2, 3} ? "yes" : "no");

    // Views: raw row-major windows, what ops read and write.
    const xg::ConstView<double> in = xg::view(static_cast<const xg::Matrix<double>&>(m));
    const xg::MutView<double> out = xg::view(m);
    out(1, 2) = 60.0;  // writes m(1, 2)
    std::printf("in(1, 2) = %g, in[4] = %g, %zux%zu, %zu entries, shape %s, data == m.data(): %s\n", in(1, 2), in[4],
                in.rows, in.cols, in.size(), xg::to_string(in.shape()).c_str(), in.data == m.data() ? "yes" : "no");
    const xg::ConstView<double> read_only = out;  // a MutView converts to a ConstView
    std::printf("out[5] = %g, out %zux%zu (%zu), read_only(0, 0) = %g, out.data == read_only.data: %s\n", out[5],
                out.rows, out.cols, out.size(), read_only(0, 0), out.data == read_only.data ? "yes" : "no");
    std::printf("out.shape() == in.shape(): %s\n", out.shape() == in.shape() ? "yes" : "no");

    // ensure_shape resizes only when the shape differs (the buffer is kept otherwise).
    const double* before = m.data();
    xg::ensure_shape(m, xg::Shape{2, 3});
    std::printf("same shape, same buffer: %s\n", m.data() == before ? "yes" : "no");
    xg::ensure_shape(m, xg::Shape{4, 5});
    std::printf("now [%s]\n", xg::to_string(xg::shape_of(m)).c_str());
}

void errors_section() {
    xg::Graph<double> g;
    auto X = g.input(xg::Matrix<double>{{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}}, "X");
    auto W = g.parameter(xg::Matrix<double>{{1.0, 2.0, 3.0}}, "W");
    try {
        matmul(W, X);  // 1 × 3 times 2 × 3
    } catch (const xg::ShapeError& e) {
        std::printf("ShapeError: %s\n", e.what());
    }
    try {
        log(X - 2.0);  // a log of a negative entry
    } catch (const xg::ValueError& e) {
        std::printf("ValueError: %s\n", e.what());
    }
    try {
        g.backward(X * 2.0);  // not 1 × 1
    } catch (const xg::GraphError& e) {
        std::printf("GraphError: %s\n", e.what());
    }
    try {
        xg::load_npy<double>("no-such-file.npy");
    } catch (const xg::IoError& e) {
        std::printf("IoError: %s\n", e.what());
    }
    try {
        xg::one_hot(xg::Matrix<double>{{0.0, 2.0}}, 2);  // class 2 of 2
    } catch (const xg::Error& e) {  // the base of all four
        std::printf("xg::Error: %s\n", e.what());
    }
}

// ---- a user-defined op: Y = A + B², A and B broadcast -----------------------

// Y = A + B² (A, B broadcast);  dA = g,  dB = 2 g ⊙ B (summed back over B's stretched axes)
template <class T>
class AddSquare final : public xg::Op<T> {
public:
    std::string name() const override { return "add_square"; }

    xg::Shape shape(const xg::ShapeContext& c) const override {
        c.require_arity(2);
        return c.broadcast();  // ShapeError "add_square(A, B): cannot broadcast ..." otherwise
    }

    void forward(const xg::ForwardContext<T>& c) const override {
        const xg::ConstView<T> a = c.in(0), b = c.in(1);
        const xg::MutView<T> y = c.out();
        // B² once per entry of B, kept in a scratch buffer between replays.
        xg::Matrix<T>& b2 = c.scratch(0, b.shape());
        for (std::size_t k = 0; k < b.size(); ++k) {
            if (!std::isfinite(b[k])) c.fail("B has a non-finite entry");
            b2.data()[k] = b[k] * b[k];
        }
        for (std::size_t i = 0; i < y.rows; ++i)
            for (std::size_t j = 0; j < y.cols; ++j)
                y(i, j) = a(a.rows == 1 ? 0 : i, a.cols == 1 ? 0 : j) + b2(b.rows == 1 ? 0 : i, b.cols == 1 ? 0 : j);
    }

    void backward(xg::BackwardContext<T>& c) const override {
        if (c.needs_grad(0)) c.pass_through(0);  // dA = g: the engine writes it, un-broadcast
        if (c.needs_grad(1)) {
            // The sink of a broadcast op has the OUTPUT's shape; the engine sums it back to B's.
            const xg::ConstView<T> b = c.in(1), g = c.dout();
            const std::size_t cols = g.cols;
            c.grad(1).store([&](std::size_t k) {
                const std::size_t i = k / cols, j = k % cols;
                return T(2) * g[k] * b(b.rows == 1 ? 0 : i, b.cols == 1 ? 0 : j);
            });
        }
    }

    xg::sym::Expr formula() const override { return xg::sym::in(0) + xg::sym::square(xg::sym::in(1)); }
    xg::sym::Expr grad_formula(std::size_t i) const override {
        using namespace xg::sym;
        return i == 0 ? grad() : 2.0 * (grad() * in(1));
    }
    bool broadcasts() const override { return true; }
};

// J = Σ C ⊙ X, C a fixed weight matrix of X's shape (no gradient);  dX = g C
template <class T>
class WeightedSum final : public xg::Op<T> {
public:
    std::string name() const override { return "weighted_sum"; }

    xg::Shape shape(const xg::ShapeContext& c) const override {
        c.require_arity(2);
        c.require_same(0, 1, "the weights must have the values' shape");
        return xg::Shape{1, 1};
    }

    void forward(const xg::ForwardContext<T>& c) const override {
        const xg::ConstView<T> x = c.in(0), w = c.in(1);
        T s = 0;
        for (std::size_t k = 0; k < x.size(); ++k) s += w[k] * x[k];
        c.out()[0] = s;
    }

    void backward(xg::BackwardContext<T>& c) const override {
        const T g = c.dout()[0];
        const xg::ConstView<T> w = c.in(1);
        c.grad(0).store([&](std::size_t k) { return g * w[k]; });  // the sink has X's shape
    }

    xg::sym::Expr formula() const override {
        using namespace xg::sym;
        return sum_all(in(1) * in(0));
    }
    xg::sym::Expr grad_formula(std::size_t) const override { return xg::sym::grad() * xg::sym::in(1); }
    bool differentiable(std::size_t i) const override { return i == 0; }  // the weights take no gradient
};

void plan_section() {
    xg::Graph<double> g;
    auto X = g.input(xg::Matrix<double>{{1.0, 2.0, -1.0}, {0.5, -1.0, 0.0}}, "X");
    auto Y = g.input(xg::Matrix<double>{{1.0, 0.0, 1.0}}, "Y");
    auto W = g.parameter(xg::Matrix<double>{{0.1, -0.2}}, "W");
    auto b = g.parameter(xg::Matrix<double>{{0.0}}, "b");
    auto WX = matmul(W, X);
    auto Z = (WX + b).named("Z");
    auto J = binary_cross_entropy(sigmoid(Z), Y).named("J");

    // The sweep from J, as the engine will run it: visits in order, and for
    // each the edges it writes (overwrite or accumulate; broadcast sinks).
    const xg::BackwardPlan& plan = g.backward_plan(J.id());
    for (const xg::PlanVisit& v : plan.visits) {
        std::printf("visit %s:", g.name(v.node).c_str());
        for (std::uint32_t k = v.first_edge; k < v.first_edge + v.edge_count; ++k) {
            const xg::PlanEdge& e = plan.edges[k];
            std::printf("  d%s (slot %u, %s%s)", g.name(e.input).c_str(), e.slot,
                        e.write == xg::GradWrite::overwrite ? "overwrite" : "accumulate",
                        e.broadcast ? ", summed over the stretched axes" : "");
        }
        std::printf("\n");
    }
    std::printf("X gets a gradient: %s; %s shares the gradient buffer of %s\n", plan.reach[X.id()] ? "yes" : "no",
                g.name(WX.id()).c_str(), g.name(plan.grad_owner[WX.id()]).c_str());
    std::printf("contributions to dW: %u\n", plan.contribution_count(W.id()));
}

void op_section() {
    xg::Graph<double> g;
    auto A = g.parameter(xg::Matrix<double>{{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}}, "A");  // 2 × 3
    auto B = g.parameter(xg::Matrix<double>{{0.5}, {-1.0}}, "B");                     // 2 × 1, stretched over the columns
    auto C = g.input(xg::Matrix<double>{{1.0, 0.0, 2.0}, {0.0, 1.0, 1.0}}, "C");
    auto Y = g.apply(std::make_shared<const AddSquare<double>>(), {A, B}, "Y");
    auto J = g.apply(std::make_shared<const WeightedSum<double>>(), {Y, C}, "J");
    docs::print("Y", Y.value());
    g.backward(J);
    docs::print("dB = Σ_columns 2 C ⊙ B", B.grad());
    std::printf("%s", xg::explain(J).c_str());
    std::printf("gradient check: %s\n", xg::check_gradients(g, J).ok() ? "ok" : "FAILED");

    try {
        g.apply(std::make_shared<const WeightedSum<double>>(), {A, B});
    } catch (const xg::ShapeError& e) {
        std::printf("ShapeError: %s\n", e.what());
    }
    try {
        auto bad = g.parameter(xg::Matrix<double>{{NAN}, {1.0}}, "bad");
        g.apply(std::make_shared<const AddSquare<double>>(), {A, bad});
    } catch (const xg::ValueError& e) {
        std::printf("ValueError: %s\n", e.what());
    }
}

}  // namespace

int main(int argc, char** argv) {
    return docs::run_sections(argc, argv,
                              {{"parameter", parameter_section},
                               {"var", var_section},
                               {"build", build_section},
                               {"plan", plan_section},
                               {"inspect", inspect_section},
                               {"tensor", tensor_section},
                               {"errors", errors_section},
                               {"op", op_section}});
}
