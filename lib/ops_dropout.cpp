// Inverted dropout: a mask drawn from the graph's generator in training, the
// identity in evaluation.
#include <cmath>

#include "dropout.hpp"
#include "hyper_params.hpp"
#include "ops_common.hpp"
#include "xgrad/random.hpp"

namespace xg {
namespace detail {

/// x / keep_prob, written as the course writes it ("D1 ⊙ dA1′ / keep_prob",
/// no parentheses around the product): a function whose spelling is that
/// template. Its name is "{} / keep_prob" in every style but LaTeX's.
inline sym::Expr over_keep_prob(sym::Expr x) {
    return sym::fn(sym::Spelling{"{} / keep_prob", "{} / keep_prob", "\\frac{{}}{\\mathrm{keep\\_prob}}"}, std::move(x));
}

// training:   Y = D ⊙ X / keep_prob;  dX = D ⊙ dY / keep_prob   (D = U < keep_prob, U uniform)
// evaluation: Y = X;                  dX = dY
//
// Scratch 0 holds the mask D (X's shape, entries 0 or 1); scratch 1 (1 × 3)
// the rows and columns of the mask last drawn and 1 when the last forward ran
// in training (the backward follows the forward's mode, not the graph's).
template <class T>
class DropoutOp final : public UnaryOp<T> {
public:
    DropoutOp(double keep, std::string mask) : keep_(keep), mask_(std::move(mask)) {}
    std::string name() const override { return "dropout"; }
    double keep_prob() const { return keep_; }

    void forward(const ForwardContext<T>& c) const override {
        const ConstView<T> x = c.in(0);
        const MutView<T> y = c.out();
        T* state = c.scratch(1, Shape{1, 3}).data();
        if (!c.training()) {
            state[2] = T(0);
            for_entries(x.size(), [&](std::size_t k) { y[k] = x[k]; });
            return;
        }
        T* d = c.scratch(0, x.shape()).data();
        const bool have = state[2] != T(0) && std::size_t(state[0]) == x.rows && std::size_t(state[1]) == x.cols;
        if (!(c.holding() && have)) {
            Rng& rng = c.rng();
            const std::size_t n = x.size();
            for (std::size_t k = 0; k < n; ++k) d[k] = rng.uniform() < keep_ ? T(1) : T(0);
            state[0] = T(x.rows);
            state[1] = T(x.cols);
        }
        state[2] = T(1);
        const T keep = T(keep_);
        for_entries(x.size(), [&](std::size_t k) { y[k] = d[k] * x[k] / keep; });
    }

    void backward(BackwardContext<T>& c) const override {
        const ConstView<T> g = c.dout();
        const T* state = c.scratch(1, Shape{1, 3}).data();
        if (state[2] == T(0)) {
            store(c.grad(0), [&](std::size_t k) { return g[k]; });
            return;
        }
        const T* d = c.scratch(0, g.shape()).data();
        const T keep = T(keep_);
        store(c.grad(0), [&](std::size_t k) { return d[k] * g[k] / keep; });
    }

    sym::Expr formula() const override { return over_keep_prob(sym::var(mask_) * sym::in(0)); }
    sym::Expr grad_formula(std::size_t) const override { return over_keep_prob(sym::var(mask_) * sym::grad()); }

private:
    double keep_;
    std::string mask_;
};

template <class T>
double dropout_keep_prob(const Op<T>* op) {
    const auto* d = dynamic_cast<const DropoutOp<T>*>(op);
    return d ? d->keep_prob() : 0.0;
}

}  // namespace detail

template <class T>
Var<T> dropout(Var<T> x, double keep_prob, const std::string& mask) {
    if (!(keep_prob > 0 && keep_prob <= 1)) {
        throw ValueError("dropout(" + x.name() + "): keep_prob must lie in (0, 1], got " + detail::number_text(keep_prob));
    }
    return detail::make_node<detail::DropoutOp>(std::vector<Var<T>>{x}, keep_prob, mask);
}

template <class T>
Matrix<T> dropout_mask(Var<T> node) {
    const Graph<T>& g = node.graph();
    if (detail::dropout_keep_prob(g.op(node.id())) == 0.0) {
        throw GraphError("dropout_mask(" + node.name() + "): " + node.name() + " is not a dropout node");
    }
    const Matrix<T>& state = g.scratch(node.id(), 1);
    if (state(0, 2) == T(0)) {
        throw GraphError("dropout_mask(" + node.name() + "): the last forward of " + node.name() +
                         " ran in evaluation mode, which draws no mask");
    }
    return g.scratch(node.id(), 0);
}

#define XG_DROPOUT_OPS(T)                                          \
    template Var<T> dropout(Var<T>, double, const std::string&);   \
    template Matrix<T> dropout_mask(Var<T>);                       \
    template double detail::dropout_keep_prob(const Op<T>*);
XG_INSTANTIATE_FLOAT_DOUBLE(XG_DROPOUT_OPS)
#undef XG_DROPOUT_OPS

}  // namespace xg
