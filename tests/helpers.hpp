// Test helpers: random matrices, naive reference kernels, finite differences.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>

#include "xgrad/xgrad.hpp"

namespace xgt {

using xg::Matrix;

template <class T = double>
Matrix<T> randn(std::size_t r, std::size_t c, std::mt19937_64& rng, double scale = 1.0) {
    std::normal_distribution<double> n(0.0, scale);
    Matrix<T> m({r, c});
    for (auto& v : m) v = T(n(rng));
    return m;
}

template <class T = double>
Matrix<T> uniform(std::size_t r, std::size_t c, std::mt19937_64& rng, double lo, double hi) {
    std::uniform_real_distribution<double> u(lo, hi);
    Matrix<T> m({r, c});
    for (auto& v : m) v = T(u(rng));
    return m;
}

template <class T = double>
Matrix<T> labels01(std::size_t r, std::size_t c, std::mt19937_64& rng) {
    std::bernoulli_distribution b(0.5);
    Matrix<T> m({r, c});
    for (auto& v : m) v = b(rng) ? T(1) : T(0);
    return m;
}

/// Reference matrix product, three plain loops (independent of BLAS).
inline Matrix<double> ref_matmul(const Matrix<double>& a, const Matrix<double>& b) {
    const std::size_t n = a.shape()[0], k = a.shape()[1], m = b.shape()[1];
    Matrix<double> c = xt::zeros<double>({n, m});
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t p = 0; p < k; ++p)
            for (std::size_t j = 0; j < m; ++j) c(i, j) += a(i, p) * b(p, j);
    return c;
}

inline Matrix<double> ref_transpose(const Matrix<double>& a) {
    Matrix<double> t({a.shape()[1], a.shape()[0]});
    for (std::size_t i = 0; i < a.shape()[0]; ++i)
        for (std::size_t j = 0; j < a.shape()[1]; ++j) t(j, i) = a(i, j);
    return t;
}

/// Σ over columns, keepdims: n × m → n × 1.
inline Matrix<double> ref_sum_cols(const Matrix<double>& a) {
    Matrix<double> s = xt::zeros<double>({a.shape()[0], std::size_t(1)});
    for (std::size_t i = 0; i < a.shape()[0]; ++i)
        for (std::size_t j = 0; j < a.shape()[1]; ++j) s(i, 0) += a(i, j);
    return s;
}

/// max |a − b| / max(1, max |b|): relative to the size of the reference.
template <class A, class B>
double rel_err(const A& a, const B& b) {
    double diff = 0, ref = 0;
    REQUIRE(a.shape()[0] == b.shape()[0]);
    REQUIRE(a.shape()[1] == b.shape()[1]);
    for (std::size_t i = 0; i < a.shape()[0]; ++i) {
        for (std::size_t j = 0; j < a.shape()[1]; ++j) {
            diff = std::max(diff, std::fabs(double(a(i, j)) - double(b(i, j))));
            ref = std::max(ref, std::fabs(double(b(i, j))));
        }
    }
    return diff / std::max(1e-300, ref);
}

/// Central finite differences of `loss` (a 1×1 node) with respect to the
/// value of parameter `p`, replaying the graph for each perturbation.
inline Matrix<double> fd_grad(xg::Graph<double>& g, xg::Var<double> loss, xg::Parameter<double> p,
                              double h = 1e-6) {
    Matrix<double> out(p.value().shape());
    for (std::size_t k = 0; k < p.value().size(); ++k) {
        const double v = p.value().data()[k];
        p.value().data()[k] = v + h;
        g.forward();
        const double up = loss.value()(0, 0);
        p.value().data()[k] = v - h;
        g.forward();
        const double down = loss.value()(0, 0);
        p.value().data()[k] = v;
        out.data()[k] = (up - down) / (2 * h);
    }
    g.forward();
    return out;
}

/// Relative error of two gradients, scaled by the larger of their magnitudes
/// (the usual gradient-check measure: |a − b| / max(|a|, |b|, tiny)).
template <class A, class B>
double grad_rel_err(const A& a, const B& b) {
    double diff = 0, mag = 1e-12;
    for (std::size_t k = 0; k < a.size(); ++k) {
        diff = std::max(diff, std::fabs(double(a.data()[k]) - double(b.data()[k])));
        mag = std::max({mag, std::fabs(double(a.data()[k])), std::fabs(double(b.data()[k]))});
    }
    return diff / mag;
}

/// Check every parameter's gradient with the library's checker (central
/// differences in float64) and fail the test with its report. With the
/// environment variable XGRAD_TEST_PRINT_GRADCHECK set, each check prints its
/// worst relative error to stderr (to survey the accuracy of the suite).
inline xg::GradCheckReport check_grads(xg::Graph<double>& g, xg::Var<double> loss,
                                       const xg::GradCheckOptions& options = {}) {
    const xg::GradCheckReport r = xg::check_gradients(g, loss, options);
    INFO(r.str());
    CHECK(r.ok());
    CHECK(!r.entries.empty());
    if (std::getenv("XGRAD_TEST_PRINT_GRADCHECK")) {
        const xg::GradCheckEntry* w = r.worst();
        std::fprintf(stderr, "gradcheck max rel err %.3g (%s)\n", r.max_rel_err(), w ? w->name.c_str() : "-");
    }
    return r;
}

/// Run f, require it throws E, and return the message.
template <class E, class F>
std::string message_of(F&& f) {
    try {
        f();
    } catch (const E& e) {
        return e.what();
    } catch (const std::exception& e) {
        FAIL("wrong exception type: " << e.what());
    }
    FAIL("no exception thrown");
    return "";
}

inline bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

/// Entry (i, j) of the n × m broadcast of `a` (each of a's dimensions is n or m, or 1).
template <class T>
T bcast_at(const Matrix<T>& a, std::size_t i, std::size_t j) {
    return a(a.shape()[0] == 1 ? 0 : i, a.shape()[1] == 1 ? 0 : j);
}

/// The same matrix in float32.
inline Matrix<float> to_float(const Matrix<double>& a) { return xt::cast<float>(a); }

/// A user-defined op, as a test would write one: J = Σ (W ⊙ X) for a fixed
/// random weight W of X's shape. It turns any node into a scalar loss whose
/// gradient (dX = g W) is different at every entry.
template <class T>
class WeightedSum final : public xg::Op<T> {
public:
    explicit WeightedSum(Matrix<T> w) : w_(std::move(w)) {}
    std::string name() const override { return "weighted_sum"; }
    xg::Shape shape(const xg::ShapeContext& c) const override {
        c.require_arity(1);
        if (c.shape(0) != xg::shape_of(w_)) c.fail("weight shape differs");
        return xg::Shape{1, 1};
    }
    void forward(const xg::ForwardContext<T>& c) const override {
        T s = 0;
        for (std::size_t k = 0; k < c.in(0).size(); ++k) s += w_.data()[k] * c.in(0)[k];
        c.out()[0] = s;
    }
    void backward(xg::BackwardContext<T>& c) const override {
        const T g = c.dout()[0];
        c.grad(0).store([&](std::size_t k) { return g * w_.data()[k]; });
    }
    xg::sym::Expr formula() const override {
        return xg::sym::fn({"Σ", "sum", "\\sum"}, xg::sym::symbol("W") * xg::sym::in(0), true);
    }
    xg::sym::Expr grad_formula(std::size_t) const override {
        return xg::sym::scale(xg::sym::grad(), xg::sym::symbol("W"));
    }

private:
    Matrix<T> w_;
};

template <class T>
xg::Var<T> weighted_sum(xg::Var<T> x, std::mt19937_64& rng) {
    auto w = randn<T>(x.shape().rows, x.shape().cols, rng);
    return x.graph().apply(std::make_shared<const WeightedSum<T>>(w), {x});
}

}  // namespace xgt
