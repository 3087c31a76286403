// Batch normalisation over the examples (columns) and layer normalisation over
// the features (rows), fused ops with hand-written backward passes.
#include <cmath>
#include <utility>

#include "hyper_params.hpp"
#include "ops_common.hpp"

namespace xg {
namespace detail {

namespace {

/// The names equations give the statistics: μ, σ, X̂ (with the label appended).
struct NormNames {
    std::string label;
    sym::Expr mu, sigma, xhat;
    explicit NormNames(const std::string& l)
        : label(l), mu(sym::var("μ" + l)), sigma(sym::var("σ" + l)), xhat(sym::var("X̂" + l)) {}
};

/// Y = γ ⊙ (X − μ) / σ + β, the forward formula of both normalisations (the
/// division written as a template, so that the product needs no parentheses).
sym::Expr norm_formula(const NormNames& n) {
    const sym::Expr over_sigma = sym::fn(
        sym::Spelling{"{} / σ" + n.label, "{} / σ" + n.label, "\\frac{{}}{\\sigma_{" + n.label + "}}"},
        sym::in(1) * (sym::in(0) - n.mu));
    return over_sigma + sym::in(2);
}

/// dγ = Σ_columns (dY ⊙ X̂), dβ = Σ_columns dY: the same in both normalisations.
sym::Expr affine_grad_formula(std::size_t i, const NormNames& n) {
    return i == 1 ? sym::sum_columns(sym::grad() * n.xhat) : sym::sum_columns(sym::grad());
}

/// sink[k] = v, or += v when it accumulates.
template <class T>
inline void put(const GradSink<T>& s, std::size_t k, T v) {
    if (s.accumulate) {
        s.view.data[k] += v;
    } else {
        s.view.data[k] = v;
    }
}

/// dγ_i = Σ_j dY_ij X̂_ij and dβ_i = Σ_j dY_ij (γ, β: n × 1), for those that need one.
template <class T>
void affine_grads(BackwardContext<T>& c, const T* xh) {
    const ConstView<T> g = c.dout();
    const bool dgamma = c.needs_grad(1), dbeta = c.needs_grad(2);
    for (std::size_t i = 0; i < g.rows; ++i) {
        double sg = 0, sgx = 0;
        const T* gi = g.data + i * g.cols;
        const T* xi = xh + i * g.cols;
        for (std::size_t j = 0; j < g.cols; ++j) {
            sg += double(gi[j]);
            sgx += double(gi[j]) * double(xi[j]);
        }
        if (dgamma) put(c.grad(1), i, T(sgx));
        if (dbeta) put(c.grad(2), i, T(sg));
    }
}

/// "γ and β must be n x 1": the shape rule of both normalisations.
Shape norm_shape(const ShapeContext& c) {
    c.require_arity(3);
    const Shape x = c.shape(0);
    if (c.shape(1) != Shape{x.rows, 1} || c.shape(2) != Shape{x.rows, 1}) {
        c.fail("the scale " + c.name(1) + " and the shift " + c.name(2) + " must be n x 1, one entry per row of " +
               c.name(0));
    }
    return x;
}

}  // namespace

// training:   μ, σ² = mean and variance of each row over the batch (columns); X̂ = (X − μ) / σ, σ = √(σ² + ε)
//             Y = γ ⊙ X̂ + β;  dX = (1/m) γ / σ ⊙ (m dY − Σ_columns dY − X̂ ⊙ Σ_columns (dY ⊙ X̂))
// evaluation: the same Y with the running averages for μ and σ²;  dX = γ / σ ⊙ dY
// dγ = Σ_columns (dY ⊙ X̂);  dβ = Σ_columns dY
//
// Scratch 0 holds X̂, scratch 1 (n × 2) μ and σ of each row, scratch 2
// (1 × 1) the mode of the last forward (1 training, 2 evaluation).
template <class T>
class BatchNormOp final : public Op<T> {
public:
    BatchNormOp(double eps, const std::string& label, RunningStats<T> running)
        : eps_(eps), names_(label), running_(std::move(running)) {}
    std::string name() const override { return "batch_norm"; }
    Shape shape(const ShapeContext& c) const override { return norm_shape(c); }

    void forward(const ForwardContext<T>& c) const override {
        const ConstView<T> x = c.in(0), gamma = c.in(1), beta = c.in(2);
        const MutView<T> y = c.out();
        const std::size_t n = x.rows, m = x.cols;
        T* xh = c.scratch(0, x.shape()).data();
        T* st = c.scratch(1, Shape{n, 2}).data();
        T* mode = c.scratch(2, Shape{1, 1}).data();
        const bool training = c.training();
        if (training) {
            if (m == 1) {
                c.fail("a batch of one column in training mode: its variance is 0, so X̂ = 0 and Y = β whatever " +
                       std::string("the input is; train on batches of 2 or more columns, or evaluate with running averages"));
            }
            const bool update = running_.batches && !c.holding();
            T* rm = update ? running_.mean.value().data() : nullptr;
            T* rv = update ? running_.variance.value().data() : nullptr;
            const bool first = update && std::as_const(running_.batches).value()(0, 0) == T(0);
            const double a = first ? 1.0 : running_.momentum;
            for (std::size_t i = 0; i < n; ++i) {
                const T* xi = x.data + i * m;
                double s = 0;
                for (std::size_t j = 0; j < m; ++j) s += double(xi[j]);
                const double mu = s / double(m);
                double v = 0;
                for (std::size_t j = 0; j < m; ++j) v += (double(xi[j]) - mu) * (double(xi[j]) - mu);
                v /= double(m);
                st[2 * i] = T(mu);
                st[2 * i + 1] = T(std::sqrt(v + eps_));
                if (update) {
                    rm[i] = T((1 - a) * double(rm[i]) + a * mu);
                    rv[i] = T((1 - a) * double(rv[i]) + a * v);
                }
            }
            if (update) running_.batches.value()(0, 0) += T(1);
            mode[0] = T(1);
        } else {
            if (!running_.batches) {
                c.fail("evaluation mode needs running averages, and this batch_norm keeps none; build it with a "
                       "RunningStats (as the BatchNorm layer does), or evaluate in training mode");
            }
            if (std::as_const(running_.batches).value()(0, 0) == T(0)) {
                c.fail("evaluation mode before any running averages exist: no training batch has been averaged "
                       "yet; run training forward passes first, or load the averages with the parameters");
            }
            const T* rm = std::as_const(running_.mean).value().data();
            const T* rv = std::as_const(running_.variance).value().data();
            for (std::size_t i = 0; i < n; ++i) {
                st[2 * i] = rm[i];
                st[2 * i + 1] = T(std::sqrt(double(rv[i]) + eps_));
            }
            mode[0] = T(2);
        }
        for (std::size_t i = 0; i < n; ++i) {
            const T mu = st[2 * i], sigma = st[2 * i + 1], gi = gamma[i], bi = beta[i];
            for (std::size_t j = 0; j < m; ++j) {
                const std::size_t k = i * m + j;
                xh[k] = (x[k] - mu) / sigma;
                y[k] = gi * xh[k] + bi;
            }
        }
    }

    void backward(BackwardContext<T>& c) const override {
        const ConstView<T> g = c.dout(), gamma = c.in(1);
        const std::size_t n = g.rows, m = g.cols;
        const T* xh = c.scratch(0, g.shape()).data();
        const T* st = c.scratch(1, Shape{n, 2}).data();
        const bool training = c.scratch(2, Shape{1, 1})(0, 0) == T(1);
        if (c.needs_grad(0)) {
            const GradSink<T>& dx = c.grad(0);
            for (std::size_t i = 0; i < n; ++i) {
                const T* gi = g.data + i * m;
                const T* xi = xh + i * m;
                const T scale = gamma[i] / st[2 * i + 1];  // γ / σ
                if (!training) {
                    for (std::size_t j = 0; j < m; ++j) put(dx, i * m + j, scale * gi[j]);
                    continue;
                }
                double sg = 0, sgx = 0;
                for (std::size_t j = 0; j < m; ++j) {
                    sg += double(gi[j]);
                    sgx += double(gi[j]) * double(xi[j]);
                }
                // In the formula's order: (1 / m) ((γ / σ) (m dY − Σ dY − X̂ Σ (dY ⊙ X̂))).
                const T mt = T(m), a = T(sg), b = T(sgx), inv_m = T(1) / mt;
                for (std::size_t j = 0; j < m; ++j) put(dx, i * m + j, inv_m * (scale * (mt * gi[j] - a - xi[j] * b)));
            }
        }
        affine_grads(c, xh);
    }

    sym::Expr formula() const override { return norm_formula(names_); }
    sym::Expr grad_formula(std::size_t i) const override {
        using namespace sym;
        if (i != 0) return affine_grad_formula(i, names_);
        // (1 / m) (γ / σ) ⊙ (m dY − Σ_columns dY − X̂ ⊙ Σ_columns (dY ⊙ X̂))
        return scale(num(1) / m(), hadamard(in(1) / names_.sigma, m() * grad() - sum_columns(grad()) -
                                                                      names_.xhat * sum_columns(grad() * names_.xhat)));
    }

private:
    double eps_;
    NormNames names_;
    mutable RunningStats<T> running_;  // the averages a training forward updates
};

// μ, σ² = mean and variance of each column over its rows; X̂ = (X − μ) / σ, σ = √(σ² + ε)
// Y = γ ⊙ X̂ + β;  dX = (1/n) (n γ ⊙ dY − Σ_rows (γ ⊙ dY) − X̂ ⊙ Σ_rows (γ ⊙ dY ⊙ X̂)) / σ
// dγ = Σ_columns (dY ⊙ X̂);  dβ = Σ_columns dY
//
// Scratch 0 holds X̂, scratch 1 (2 × m) μ and σ of each column, scratch 2
// (2 × m) the column sums of the backward.
template <class T>
class LayerNormOp final : public Op<T> {
public:
    LayerNormOp(double eps, const std::string& label) : eps_(eps), names_(label) {}
    std::string name() const override { return "layer_norm"; }
    Shape shape(const ShapeContext& c) const override {
        const Shape s = norm_shape(c);
        if (s.rows < 2) {
            c.fail(c.name(0) + " has one row: a column of one feature has variance 0, so X̂ = 0 and Y = β "
                               "whatever the input is; layer normalisation needs 2 or more rows");
        }
        return s;
    }

    void forward(const ForwardContext<T>& c) const override {
        const ConstView<T> x = c.in(0), gamma = c.in(1), beta = c.in(2);
        const MutView<T> y = c.out();
        const std::size_t n = x.rows, m = x.cols;
        T* xh = c.scratch(0, x.shape()).data();
        T* mu = c.scratch(1, Shape{2, m}).data();
        T* sigma = mu + m;
        for (std::size_t j = 0; j < m; ++j) mu[j] = sigma[j] = T(0);
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < m; ++j) mu[j] += x[i * m + j];
        for (std::size_t j = 0; j < m; ++j) mu[j] /= T(n);
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < m; ++j) {
                const T d = x[i * m + j] - mu[j];
                sigma[j] += d * d;
            }
        for (std::size_t j = 0; j < m; ++j) sigma[j] = T(std::sqrt(double(sigma[j]) / double(n) + eps_));
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < m; ++j) {
                const std::size_t k = i * m + j;
                xh[k] = (x[k] - mu[j]) / sigma[j];
                y[k] = gamma[i] * xh[k] + beta[i];
            }
    }

    void backward(BackwardContext<T>& c) const override {
        const ConstView<T> g = c.dout(), gamma = c.in(1);
        const std::size_t n = g.rows, m = g.cols;
        const T* xh = c.scratch(0, g.shape()).data();
        const T* sigma = c.scratch(1, Shape{2, m}).data() + m;
        if (c.needs_grad(0)) {
            T* a = c.scratch(2, Shape{2, m}).data();  // Σ_rows (γ ⊙ dY), then Σ_rows (γ ⊙ dY ⊙ X̂)
            T* b = a + m;
            for (std::size_t j = 0; j < m; ++j) a[j] = b[j] = T(0);
            for (std::size_t i = 0; i < n; ++i)
                for (std::size_t j = 0; j < m; ++j) {
                    const T d = gamma[i] * g[i * m + j];
                    a[j] += d;
                    b[j] += d * xh[i * m + j];
                }
            const GradSink<T>& dx = c.grad(0);
            const T nt = T(n), inv_n = T(1) / nt;
            // In the formula's order: (1 / n) ((1 / σ) (n (γ dY) − Σ_rows (γ dY) − X̂ Σ_rows (γ dY X̂))).
            for (std::size_t i = 0; i < n; ++i)
                for (std::size_t j = 0; j < m; ++j) {
                    const std::size_t k = i * m + j;
                    put(dx, k, inv_n * ((T(1) / sigma[j]) * (nt * (gamma[i] * g[k]) - a[j] - xh[k] * b[j])));
                }
        }
        affine_grads(c, xh);
    }

    sym::Expr formula() const override { return norm_formula(names_); }
    sym::Expr grad_formula(std::size_t i) const override {
        using namespace sym;
        if (i != 0) return affine_grad_formula(i, names_);
        // (1 / n) (1 / σ) ⊙ (n γ ⊙ dY − Σ_rows (γ ⊙ dY) − X̂ ⊙ Σ_rows (γ ⊙ dY ⊙ X̂))
        const Expr n = symbol("n"), gdy = in(1) * grad();
        return scale(num(1) / n, hadamard(num(1) / names_.sigma,
                                          n * gdy - sum_rows(gdy) - names_.xhat * sum_rows(gdy * names_.xhat)));
    }

private:
    double eps_;
    NormNames names_;
};

}  // namespace detail

namespace {

void check_epsilon(const std::string& call, double eps) {
    if (!(std::isfinite(eps) && eps > 0)) {
        throw ValueError(call + ": epsilon must be positive and finite, got " + detail::number_text(eps));
    }
}

template <class T>
std::string call3(const char* op, const Var<T>& x, const Var<T>& gamma, const Var<T>& beta) {
    return std::string(op) + "(" + x.name() + ", " + gamma.name() + ", " + beta.name() + ")";
}

}  // namespace

template <class T>
RunningStats<T>::RunningStats(std::size_t n, double momentum_, const std::string& suffix) : momentum(momentum_) {
    if (n == 0) throw ValueError("RunningStats: the number of rows must be at least 1");
    if (!(momentum > 0 && momentum <= 1)) {
        throw ValueError("RunningStats: the momentum must lie in (0, 1], got " + detail::number_text(momentum));
    }
    Matrix<T> ones({n, std::size_t(1)});
    ones.fill(T(1));
    mean = Parameter<T>(xt::zeros<T>({n, std::size_t(1)}), "running_mean" + suffix);
    variance = Parameter<T>(ones, "running_var" + suffix);
    batches = Parameter<T>(xt::zeros<T>({std::size_t(1), std::size_t(1)}), "batches" + suffix);
}

template <class T>
Var<T> batch_norm(Var<T> x, Var<T> gamma, Var<T> beta, double epsilon, const std::string& label) {
    check_epsilon(call3("batch_norm", x, gamma, beta), epsilon);
    return detail::make_node<detail::BatchNormOp>(std::vector<Var<T>>{x, gamma, beta}, epsilon, label, RunningStats<T>());
}

template <class T>
Var<T> batch_norm(Var<T> x, Var<T> gamma, Var<T> beta, RunningStats<T> running, double epsilon, const std::string& label) {
    const std::string call = call3("batch_norm", x, gamma, beta);
    check_epsilon(call, epsilon);
    if (!running.mean || !running.variance || !running.batches) {
        throw ValueError(call + ": the RunningStats has no storage; make it with RunningStats(n)");
    }
    const Shape s = x.shape();
    if (running.mean.shape() != Shape{s.rows, 1} || running.variance.shape() != Shape{s.rows, 1} ||
        running.batches.shape() != Shape{1, 1}) {
        throw ShapeError(call + ": the running averages " + running.mean.name() + " [" + to_string(running.mean.shape()) +
                         "] and " + running.variance.name() + " [" + to_string(running.variance.shape()) +
                         "] must be n x 1 for " + x.name() + " [" + to_string(s) + "]");
    }
    return detail::make_node<detail::BatchNormOp>(std::vector<Var<T>>{x, gamma, beta}, epsilon, label, std::move(running));
}

template <class T>
Var<T> layer_norm(Var<T> x, Var<T> gamma, Var<T> beta, double epsilon, const std::string& label) {
    check_epsilon(call3("layer_norm", x, gamma, beta), epsilon);
    return detail::make_node<detail::LayerNormOp>(std::vector<Var<T>>{x, gamma, beta}, epsilon, label);
}

#define XG_NORM_OPS(T)                                                                                   \
    template struct RunningStats<T>;                                                                     \
    template Var<T> batch_norm(Var<T>, Var<T>, Var<T>, double, const std::string&);                      \
    template Var<T> batch_norm(Var<T>, Var<T>, Var<T>, RunningStats<T>, double, const std::string&);     \
    template Var<T> layer_norm(Var<T>, Var<T>, Var<T>, double, const std::string&);
XG_INSTANTIATE_FLOAT_DOUBLE(XG_NORM_OPS)
#undef XG_NORM_OPS

}  // namespace xg
