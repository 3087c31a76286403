// Optimisers and learning-rate schedules. Each update is one loop over a
// parameter's contiguous entries; nothing is allocated per step.
#include "xgrad/optim.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "hyper_params.hpp"
#include "instantiate.hpp"
#include "parallel.hpp"
#include "vmath.hpp"

namespace xg {

namespace {

using detail::number_text;

void check_rate(const char* who, double alpha) { detail::require_finite_non_negative(who, "learning rate", alpha); }

void check_every(const char* who, std::size_t every) {
    if (every == 0) throw ValueError(std::string(who) + ": `every` must be at least 1 step");
}

void check_factor(const char* who, const char* name, double f) {
    if (!(f > 0 && f <= 1)) {
        throw ValueError(std::string(who) + ": " + name + " must lie in (0, 1], got " + number_text(f));
    }
}

}  // namespace

// ---- schedules -------------------------------------------------------------------

Schedule::Schedule(double learning_rate) : constant_(learning_rate), description_(number_text(learning_rate)) {
    check_rate("Schedule", learning_rate);
}

Schedule::Schedule(std::function<double(std::size_t)> f, std::string description)
    : f_(std::move(f)), description_(std::move(description)) {
    if (!f_) throw ValueError("Schedule: empty function");
}

Schedule step_decay(double alpha0, double factor, std::size_t every) {
    check_rate("step_decay", alpha0);
    check_factor("step_decay", "the factor", factor);
    check_every("step_decay", every);
    return Schedule([=](std::size_t k) { return alpha0 * std::pow(factor, double(k / every)); },
                    "step_decay(" + number_text(alpha0) + ", " + number_text(factor) + ", every " + std::to_string(every) + ")");
}

Schedule exponential_decay(double alpha0, double rate, std::size_t every) {
    check_rate("exponential_decay", alpha0);
    check_factor("exponential_decay", "the rate", rate);
    check_every("exponential_decay", every);
    return Schedule([=](std::size_t k) { return alpha0 * std::pow(rate, double(k) / double(every)); },
                    "exponential_decay(" + number_text(alpha0) + ", " + number_text(rate) + ", every " +
                        std::to_string(every) + ")");
}

Schedule inverse_time_decay(double alpha0, double decay, std::size_t every) {
    check_rate("inverse_time_decay", alpha0);
    detail::require_finite_non_negative("inverse_time_decay", "decay", decay);
    check_every("inverse_time_decay", every);
    return Schedule([=](std::size_t k) { return alpha0 / (1 + decay * double(k / every)); },
                    "inverse_time_decay(" + number_text(alpha0) + ", " + number_text(decay) + ", every " +
                        std::to_string(every) + ")");
}

// ---- Optimizer -------------------------------------------------------------------------

template <class T>
Optimizer<T>::Optimizer(const char* name, std::vector<Parameter<T>> params, Schedule schedule, std::size_t state_slots)
    : name_(name), params_(std::move(params)), schedule_(std::move(schedule)), slots_(state_slots) {
    if (params_.empty()) throw ValueError(std::string(name) + ": no parameters to optimise");
    for (std::size_t i = 0; i < params_.size(); ++i) {
        if (!params_[i]) throw ValueError(std::string(name) + ": parameter " + std::to_string(i) + " is an empty handle");
        for (std::size_t j = 0; j < i; ++j) {
            if (params_[j] == params_[i]) {
                throw ValueError(std::string(name) + ": parameter " + params_[i].name() + " is listed twice (" +
                                 std::to_string(j) + " and " + std::to_string(i) + "); it would be updated twice");
            }
        }
    }
    state_.resize(params_.size() * slots_);
    for (std::size_t i = 0; i < params_.size(); ++i) {
        for (std::size_t s = 0; s < slots_; ++s) state_[i * slots_ + s] = xt::zeros<T>(std::as_const(params_[i]).value().shape());
    }
    slot_ptrs_.resize(slots_);
    decay_.assign(params_.size(), 0.0);
}

template <class T>
void Optimizer<T>::set_weight_decay(double lambda) {
    detail::require_finite_non_negative(std::string(name_) + ": set_weight_decay", "decay", lambda);
    decay_.assign(params_.size(), lambda);
}

template <class T>
void Optimizer<T>::set_weight_decay(double lambda, const std::vector<Parameter<T>>& only) {
    detail::require_finite_non_negative(std::string(name_) + ": set_weight_decay", "decay", lambda);
    std::vector<double> d(params_.size(), 0.0);
    for (const Parameter<T>& p : only) {
        const auto it = std::find(params_.begin(), params_.end(), p);
        if (it == params_.end()) {
            throw ValueError(std::string(name_) + ": set_weight_decay: " + (p ? p.name() : std::string("an empty handle")) +
                             " is not one of the parameters this optimiser updates");
        }
        d[std::size_t(it - params_.begin())] = lambda;
    }
    decay_ = std::move(d);
}

template <class T>
double Optimizer<T>::weight_decay(std::size_t i) const {
    if (i >= params_.size()) {
        throw ValueError(std::string(name_) + ": no parameter " + std::to_string(i) + " (" +
                         std::to_string(params_.size()) + " parameters)");
    }
    return decay_[i];
}

template <class T>
std::string Optimizer<T>::decay_text() const {
    double lambda = 0;
    std::size_t decayed = 0;
    for (double d : decay_) {
        if (d == 0) continue;
        lambda = d;
        ++decayed;
    }
    if (decayed == 0) return "";
    std::string s = ", weight decay λ = " + number_text(lambda);
    if (decayed < decay_.size()) s += " on " + std::to_string(decayed) + " of " + std::to_string(decay_.size()) + " parameters";
    return s;
}

template <class T>
const Matrix<T>& Optimizer<T>::state(std::size_t i, std::size_t slot) const {
    if (i >= params_.size() || slot >= slots_) {
        throw ValueError(std::string(name_) + ": no state " + std::to_string(slot) + " of parameter " +
                         std::to_string(i) + " (" + std::to_string(params_.size()) + " parameters)");
    }
    return state_[i * slots_ + slot];
}

template <class T>
void Optimizer<T>::check_beta(const char* who, const char* name, double beta) {
    if (!(beta >= 0 && beta < 1)) {
        throw ValueError(std::string(who) + ": " + name + " must lie in [0, 1), got " + number_text(beta));
    }
}

template <class T>
void Optimizer<T>::step(double grad_scale) {
    const double alpha = schedule_(steps_);
    if (!std::isfinite(alpha) || alpha < 0) {
        throw ValueError(std::string(name_) + ": the learning-rate schedule " + schedule_.describe() + " gives " +
                         number_text(alpha) + " at step " + std::to_string(steps_) + "; it must be finite and not negative");
    }
    if (!std::isfinite(grad_scale)) {
        throw ValueError(std::string(name_) + ": the gradient scale must be finite, got " + number_text(grad_scale));
    }
    // Check every shape before changing anything: a failed step updates nothing.
    for (const Parameter<T>& p : params_) {
        if (shape_of(p.grad()) != p.shape()) {
            throw ShapeError(std::string(name_) + ": the gradient of " + p.name() + " is [" +
                             to_string(shape_of(p.grad())) + "] but its value is [" + to_string(p.shape()) +
                             "]; run forward() and backward() after changing a parameter's shape");
        }
    }
    const std::size_t t = steps_ + 1;
    for (std::size_t i = 0; i < params_.size(); ++i) {
        Parameter<T>& p = params_[i];
        for (std::size_t s = 0; s < slots_; ++s) {
            Matrix<T>& st = state_[i * slots_ + s];
            if (shape_of(st) != p.shape()) {  // the parameter changed shape: restart its state
                st.resize({p.shape().rows, p.shape().cols});
                std::fill(st.begin(), st.end(), T(0));
            }
            slot_ptrs_[s] = st.data();
        }
        if (decay_[i] != 0) {
            // W ← W − α λ W: the decoupled decay, before the optimiser's own update.
            const T shrink = T(1 - alpha * decay_[i]);
            T* w = p.value().data();
            detail::parallel_for(p.value().size(), detail::grain_arith, [=](std::size_t b, std::size_t e) {
                for (std::size_t k = b; k < e; ++k) w[k] *= shrink;
            });
        }
        update(p.value().data(), std::as_const(p).grad().data(), slot_ptrs_.data(), p.value().size(), T(alpha), T(grad_scale), t);
    }
    steps_ = t;
}

template <class T>
void Optimizer<T>::zero_grad() {
    for (Parameter<T>& p : params_) p.zero_grad();
}

// ---- GradientDescent -----------------------------------------------------------------

template <class T>
GradientDescent<T>::GradientDescent(std::vector<Parameter<T>> params, Schedule learning_rate)
    : Optimizer<T>("GradientDescent", std::move(params), std::move(learning_rate), 0) {}

template <class T>
std::string GradientDescent<T>::describe() const {
    return "GradientDescent(α = " + this->schedule().describe() + this->decay_text() + ")";
}

// W ← W − α dW
template <class T>
void GradientDescent<T>::update(T* w, const T* g, T* const*, std::size_t n, T alpha, T grad_scale,
                                std::size_t) const {
    const T a = alpha * grad_scale;
    detail::parallel_for(n, detail::grain_arith, [=](std::size_t b, std::size_t e) {
        for (std::size_t k = b; k < e; ++k) w[k] -= a * g[k];
    });
}

// ---- Momentum --------------------------------------------------------------------------

template <class T>
Momentum<T>::Momentum(std::vector<Parameter<T>> params, Schedule learning_rate, double beta)
    : Optimizer<T>("Momentum", std::move(params), std::move(learning_rate), 1), beta_(beta) {
    this->check_beta("Momentum", "β", beta);
}

template <class T>
std::string Momentum<T>::describe() const {
    return "Momentum(α = " + this->schedule().describe() + ", β = " + number_text(beta_) + this->decay_text() + ")";
}

// v ← β v + (1 − β) dW;  W ← W − α v
template <class T>
void Momentum<T>::update(T* w, const T* g, T* const* state, std::size_t n, T alpha, T grad_scale,
                         std::size_t) const {
    T* v = state[0];
    const T beta = T(beta_), c = T(1 - beta_) * grad_scale;
    detail::parallel_for(n, detail::grain_arith, [=](std::size_t b, std::size_t e) {
        for (std::size_t k = b; k < e; ++k) {
            v[k] = beta * v[k] + c * g[k];
            w[k] -= alpha * v[k];
        }
    });
}

// ---- Adam ------------------------------------------------------------------------------

template <class T>
Adam<T>::Adam(std::vector<Parameter<T>> params, Schedule learning_rate, double beta1, double beta2, double epsilon)
    : Optimizer<T>("Adam", std::move(params), std::move(learning_rate), 2),
      beta1_(beta1),
      beta2_(beta2),
      epsilon_(epsilon) {
    this->check_beta("Adam", "β1", beta1);
    this->check_beta("Adam", "β2", beta2);
    if (!(std::isfinite(epsilon) && epsilon > 0)) {
        throw ValueError("Adam: ε must be positive and finite, got " + number_text(epsilon));
    }
}

template <class T>
std::string Adam<T>::describe() const {
    return "Adam(α = " + this->schedule().describe() + ", β1 = " + number_text(beta1_) + ", β2 = " + number_text(beta2_) +
           ", ε = " + number_text(epsilon_) + this->decay_text() + ")";
}

// ---- AdamW -----------------------------------------------------------------------------

template <class T>
AdamW<T>::AdamW(std::vector<Parameter<T>> params, Schedule learning_rate, double weight_decay, double beta1,
                double beta2, double epsilon)
    : Adam<T>(std::move(params), std::move(learning_rate), beta1, beta2, epsilon) {
    this->set_weight_decay(weight_decay);
}

template <class T>
std::string AdamW<T>::describe() const {
    return "AdamW(" + Adam<T>::describe().substr(5);
}

// v ← β1 v + (1 − β1) dW;  s ← β2 s + (1 − β2) dW²;  W ← W − α v̂ / (√ŝ + ε)
// with v̂ = v / (1 − β1ᵗ), ŝ = s / (1 − β2ᵗ).
template <class T>
void Adam<T>::update(T* w, const T* g, T* const* state, std::size_t n, T alpha, T grad_scale,
                     std::size_t t) const {
    // Bias corrections in double: 1 − β2ᵗ is tiny for small t.
    const detail::AdamCoefficients<T> c{grad_scale,
                                        T(beta1_),
                                        T(1 - beta1_),
                                        T(beta2_),
                                        T(1 - beta2_),
                                        alpha,
                                        T(1 / (1 - std::pow(beta1_, double(t)))),
                                        T(1 / (1 - std::pow(beta2_, double(t)))),
                                        T(epsilon_)};
    // One pass over the entries, in SIMD batches (lib/vmath.hpp).
    detail::vadam(w, g, state[0], state[1], n, c);
}

#define XG_OPTIM_INSTANTIATIONS(T)     \
    template class Optimizer<T>;       \
    template class GradientDescent<T>; \
    template class Momentum<T>;        \
    template class Adam<T>;            \
    template class AdamW<T>;
XG_INSTANTIATE_FLOAT_DOUBLE(XG_OPTIM_INSTANTIATIONS)
#undef XG_OPTIM_INSTANTIATIONS

}  // namespace xg
