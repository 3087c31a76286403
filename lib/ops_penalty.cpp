// The L2 penalty of the course: (λ / 2m) Σ ‖W‖² as one node over the weights.
#include <cmath>

#include "hyper_params.hpp"
#include "ops_common.hpp"

namespace xg {
namespace detail {

/// λ as equations print it.
inline sym::Expr lambda_symbol() { return sym::symbol(sym::Spelling{"λ", "lambda", "\\lambda"}); }

// J = (λ / 2m) Σ_l Σ W_l²  (m = the columns of X);  dW_l = (λ / m) g W_l;  X gets no gradient
template <class T>
class L2PenaltyOp final : public Op<T> {
public:
    explicit L2PenaltyOp(double lambda) : lambda_(lambda) {}
    std::string name() const override { return "l2_penalty"; }

    Shape shape(const ShapeContext& c) const override {
        if (c.arity() < 2) c.fail("needs the batch X and at least one weight matrix");
        return Shape{1, 1};
    }

    void forward(const ForwardContext<T>& c) const override {
        double s = 0;
        for (std::size_t i = 1; i < c.arity(); ++i) {
            const ConstView<T> w = c.in(i);
            for (std::size_t k = 0; k < w.size(); ++k) s += double(w[k]) * double(w[k]);
        }
        c.out()[0] = T(lambda_ * s / (2.0 * double(c.in(0).cols)));
    }

    void backward(BackwardContext<T>& c) const override {
        const T f = T(lambda_ / double(c.in(0).cols)) * c.dout()[0];
        for (std::size_t i = 1; i < c.arity(); ++i) {
            if (!c.needs_grad(i)) continue;
            const ConstView<T> w = c.in(i);
            store(c.grad(i), [&](std::size_t k) { return f * w[k]; });
        }
    }

    // (λ / (2 m)) (Σ_all W1² + Σ_all W2² + …) over the inputs the op was made for.
    sym::Expr formula() const override {
        using namespace sym;
        Expr s;
        for (std::size_t i = 1; i < arity_; ++i) {
            const Expr t = sum_all(square(in(i)));
            s = s ? s + t : t;
        }
        return scale(lambda_symbol() / (2.0 * m()), s);
    }
    sym::Expr grad_formula(std::size_t i) const override {
        using namespace sym;
        return scale(lambda_symbol() / m(), grad() * in(i));
    }

    bool differentiable(std::size_t i) const override { return i != 0; }

    void set_arity(std::size_t n) { arity_ = n; }

private:
    double lambda_;
    std::size_t arity_ = 2;
};

}  // namespace detail

template <class T>
Var<T> l2_penalty(Var<T> x, const std::vector<Var<T>>& weights, double lambda) {
    std::string call = "l2_penalty(" + x.name();
    for (const Var<T>& w : weights) call += ", " + (w ? w.name() : std::string("(empty)"));
    call += ")";
    if (weights.empty()) throw ValueError(call + ": no weights to penalise");
    detail::require_finite_non_negative(call, "lambda", lambda);
    std::vector<Var<T>> in{x};
    in.insert(in.end(), weights.begin(), weights.end());
    auto op = std::make_shared<detail::L2PenaltyOp<T>>(lambda);
    op->set_arity(in.size());
    return x.graph().apply(std::shared_ptr<const Op<T>>(std::move(op)), in);
}

template <class T>
Var<T> l2_penalty(Var<T> x, const std::vector<Parameter<T>>& weights, double lambda) {
    Graph<T>& g = x.graph();
    std::vector<Var<T>> leaves;
    for (const Parameter<T>& p : weights) {
        if (!p) throw GraphError("l2_penalty(" + x.name() + ", ...): an empty Parameter handle");
        std::uint32_t found = std::uint32_t(g.size());
        for (std::uint32_t id = 0; id < g.size() && found == g.size(); ++id) {
            if (g.kind(id) == NodeKind::parameter && g.parameter_of(id) == p) found = id;
        }
        if (found == g.size()) {
            throw GraphError("l2_penalty(" + x.name() + ", ...): the parameter " + p.name() + " [" +
                             to_string(p.shape()) + "] is not in the graph of " + x.name() +
                             " (no node uses it); penalise the weights the cost is computed from");
        }
        leaves.push_back(g.var(found));
    }
    return l2_penalty(x, leaves, lambda);
}

#define XG_PENALTY_OPS(T)                                                        \
    template Var<T> l2_penalty(Var<T>, const std::vector<Var<T>>&, double);      \
    template Var<T> l2_penalty(Var<T>, const std::vector<Parameter<T>>&, double);
XG_INSTANTIATE_FLOAT_DOUBLE(XG_PENALTY_OPS)
#undef XG_PENALTY_OPS

}  // namespace xg
