// xgrad — optimisers: update a set of Parameters in place from their
// gradients, with an optional learning-rate schedule.
//
//   GradientDescent   W ← W − α dW
//   Momentum          v ← β v + (1 − β) dW;            W ← W − α v
//   Adam              v ← β1 v + (1 − β1) dW;          s ← β2 s + (1 − β2) dW²
//                     v̂ = v / (1 − β1ᵗ);  ŝ = s / (1 − β2ᵗ);  W ← W − α v̂ / (√ŝ + ε)
//   AdamW             W ← W − α λ W, then Adam's update (decoupled weight decay;
//                     set_weight_decay gives any optimiser the same first step)
//
// dW is each Parameter's grad() as the last backward() left it (step() reads
// it and never clears it). The state (v, s) has the parameters' shapes, is
// allocated when the optimiser is made and starts at zero; a step is plain
// loops over contiguous memory and allocates nothing.
//
// A typical step, on a graph built once (docs/howto-deeper-network.md;
// every member is listed in docs/reference/optim.md):
//
//     g.set_value(X, Xb); g.set_value(Y, Yb);
//     g.forward();
//     g.backward(J);
//     opt.step();
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "xgrad/graph.hpp"
#include "xgrad/tensor.hpp"

namespace xg {

// ---- learning-rate schedules ---------------------------------------------------

/// The learning rate of each step: α(k) for the step taken after k earlier
/// steps (k = 0 for the first). Made from a number (a constant α: pass 0.01
/// wherever a Schedule is expected), from one of the schedules below, or from
/// any function of k.
class Schedule {
public:
    /// α(k) = learning_rate. ValueError when it is negative or not finite.
    Schedule(double learning_rate);  // NOLINT: implicit on purpose
    /// α(k) = f(k); `description` is what describe() returns. ValueError for
    /// an empty function. Each value is checked when a step uses it
    /// (ValueError when negative or not finite).
    Schedule(std::function<double(std::size_t)> f, std::string description);

    /// α(k), unchecked.
    double operator()(std::size_t k) const { return f_ ? f_(k) : constant_; }
    /// "0.01", "step_decay(0.1, 0.5, every 100)", …
    const std::string& describe() const { return description_; }

private:
    double constant_ = 0;
    std::function<double(std::size_t)> f_;
    std::string description_;
};

/// α(k) = α0 · factor^⌊k / every⌋: multiplied by `factor` every `every` steps.
/// ValueError unless α0 ≥ 0 (finite), 0 < factor ≤ 1 and every ≥ 1.
Schedule step_decay(double alpha0, double factor, std::size_t every);

/// α(k) = α0 · rate^(k / every): a smooth decay by `rate` per `every` steps.
/// ValueError unless α0 ≥ 0 (finite), 0 < rate ≤ 1 and every ≥ 1.
Schedule exponential_decay(double alpha0, double rate, std::size_t every = 1);

/// α(k) = α0 / (1 + decay · ⌊k / every⌋): the lecture's learning-rate decay
/// α = α0 / (1 + decay_rate · epoch_num), with every = steps per epoch.
/// ValueError unless α0 ≥ 0 and decay ≥ 0 (both finite) and every ≥ 1.
Schedule inverse_time_decay(double alpha0, double decay, std::size_t every = 1);

// ---- optimisers -------------------------------------------------------------------

/// What every optimiser shares: the parameters, the schedule, the step count.
/// Copying an optimiser copies its state; the Parameters stay shared.
template <class T>
class Optimizer {
public:
    virtual ~Optimizer() = default;

    /// One update of every parameter from its grad(), with α = schedule(steps()).
    /// With `grad_scale` the update uses grad_scale · dW in place of dW: after
    /// accumulating the gradients of k equal mini-batches (GradMode::accumulate),
    /// step(1.0 / k) is the step of their mean — that of one batch holding all
    /// k. Allocates nothing. ShapeError when a parameter's grad() does not
    /// have its value's shape (its shape changed since the last backward());
    /// ValueError when the schedule gives a negative or non-finite α, or
    /// grad_scale is not finite. A parameter whose shape changed restarts
    /// from zero state.
    void step(double grad_scale = 1.0);
    /// Set every parameter's gradient to zero (before accumulating).
    void zero_grad();

    /// Steps taken so far (t of the last step; Adam's next step uses t + 1).
    std::size_t steps() const { return steps_; }
    /// The α the next step will use: schedule(steps()).
    double learning_rate() const { return schedule_(steps_); }
    const Schedule& schedule() const { return schedule_; }
    /// Use `s` from the next step on; the step count goes on (the next step
    /// takes α = s(steps())).
    void set_schedule(Schedule s) { schedule_ = std::move(s); }
    /// The parameters it updates, in the order given.
    const std::vector<Parameter<T>>& parameters() const { return params_; }

    /// Decoupled weight decay (Loshchilov and Hutter's AdamW rule; for
    /// GradientDescent the classic one): each step first shrinks each
    /// decayed parameter, W ← W − α λ W, then applies the optimiser's own
    /// update from dW. Unlike an L2 penalty in the cost (l2_penalty, whose
    /// (λ/m) W passes through dW and so through Momentum's and Adam's
    /// averages and Adam's division by √ŝ), the decay never enters the
    /// gradient. For GradientDescent the two coincide (with λ here = λ/m
    /// there); for Adam they differ: docs/regularisation.md. This form decays
    /// every parameter; λ = 0 (the default) turns it off. ValueError for λ
    /// negative or not finite.
    void set_weight_decay(double lambda);
    /// The same for the given parameters only (the weights, not the biases,
    /// say); the others are not decayed. ValueError for a parameter this
    /// optimiser does not update, naming it.
    void set_weight_decay(double lambda, const std::vector<Parameter<T>>& only);
    /// The decay λ of parameter i (0 when it is not decayed). ValueError for
    /// i ≥ parameters().size().
    double weight_decay(std::size_t i) const;
    /// "Adam(α = 0.01, β1 = 0.9, β2 = 0.999, ε = 1e-08)".
    virtual std::string describe() const = 0;

protected:
    /// An optimiser called `name` (in messages; the pointer is kept, so pass a
    /// string literal) with `state_slots` state buffers per parameter, each of
    /// its shape, starting at zero. ValueError for no parameters, an empty
    /// handle, or a parameter listed twice.
    Optimizer(const char* name, std::vector<Parameter<T>> params, Schedule schedule, std::size_t state_slots);
    /// Update the n entries of one parameter: w ← …, given its gradient g
    /// (not yet scaled by grad_scale) and its state buffers; t = steps() + 1.
    virtual void update(T* w, const T* g, T* const* state, std::size_t n, T alpha, T grad_scale,
                        std::size_t t) const = 0;
    /// State buffer `slot` of parameter i. ValueError for an i or a slot out of range.
    const Matrix<T>& state(std::size_t i, std::size_t slot) const;
    /// ValueError "who: name must lie in [0, 1), got beta" unless 0 ≤ beta < 1.
    static void check_beta(const char* who, const char* name, double beta);
    /// ", weight decay λ = 0.01" when some parameter is decayed, else "":
    /// the end of describe().
    std::string decay_text() const;

    /// The name given to the constructor ("Adam").
    const char* name_;

private:
    std::vector<Parameter<T>> params_;
    Schedule schedule_;
    std::size_t slots_;
    std::vector<Matrix<T>> state_;  // params × slots, each of its parameter's shape
    std::vector<T*> slot_ptrs_;
    std::vector<double> decay_;  // λ per parameter (0: not decayed)
    std::size_t steps_ = 0;
};

/// Plain gradient descent, the lecture's update: W ← W − α dW.
template <class T>
class GradientDescent : public Optimizer<T> {
public:
    GradientDescent(std::vector<Parameter<T>> params, Schedule learning_rate);
    std::string describe() const override;

protected:
    void update(T* w, const T* g, T* const* state, std::size_t n, T alpha, T grad_scale,
                std::size_t t) const override;
};

/// Gradient descent with momentum in the lecture's form (an exponentially
/// weighted average of the gradients, no bias correction):
///   v ← β v + (1 − β) dW,   W ← W − α v,   v starting at 0.
/// (The other common form, v ← β v + dW, is this one with α / (1 − β).)
/// ValueError unless 0 ≤ β < 1.
template <class T>
class Momentum : public Optimizer<T> {
public:
    Momentum(std::vector<Parameter<T>> params, Schedule learning_rate, double beta = 0.9);
    std::string describe() const override;
    double beta() const { return beta_; }
    /// v of parameter i (its shape). ValueError for i ≥ parameters().size().
    const Matrix<T>& velocity(std::size_t i) const { return this->state(i, 0); }

protected:
    void update(T* w, const T* g, T* const* state, std::size_t n, T alpha, T grad_scale,
                std::size_t t) const override;

private:
    double beta_;
};

/// Adam (Kingma and Ba, 2015) with bias correction, at step t = 1, 2, …:
///   v ← β1 v + (1 − β1) dW,   s ← β2 s + (1 − β2) dW²   (elementwise)
///   v̂ = v / (1 − β1ᵗ),   ŝ = s / (1 − β2ᵗ),   W ← W − α v̂ / (√ŝ + ε)
/// ValueError unless 0 ≤ β1 < 1, 0 ≤ β2 < 1 and ε > 0 (finite).
template <class T>
class Adam : public Optimizer<T> {
public:
    Adam(std::vector<Parameter<T>> params, Schedule learning_rate = 0.001, double beta1 = 0.9, double beta2 = 0.999,
         double epsilon = 1e-8);
    std::string describe() const override;
    double beta1() const { return beta1_; }
    double beta2() const { return beta2_; }
    double epsilon() const { return epsilon_; }
    /// v (first moment) of parameter i, before bias correction. ValueError for
    /// i ≥ parameters().size().
    const Matrix<T>& first_moment(std::size_t i) const { return this->state(i, 0); }
    /// s (second moment) of parameter i, before bias correction. ValueError for
    /// i ≥ parameters().size().
    const Matrix<T>& second_moment(std::size_t i) const { return this->state(i, 1); }

protected:
    void update(T* w, const T* g, T* const* state, std::size_t n, T alpha, T grad_scale,
                std::size_t t) const override;

private:
    double beta1_, beta2_, epsilon_;
};

/// AdamW: Adam with decoupled weight decay λ (set_weight_decay), at step t:
///   W ← W − α λ W,  then Adam's update  W ← W − α v̂ / (√ŝ + ε)
/// (PyTorch's torch.optim.AdamW). Every parameter is decayed unless
/// set_weight_decay(λ, only) narrows it. Errors as Adam's and set_weight_decay's.
template <class T>
class AdamW : public Adam<T> {
public:
    AdamW(std::vector<Parameter<T>> params, Schedule learning_rate = 0.001, double weight_decay = 0.01,
          double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8);
    std::string describe() const override;
};

extern template class Optimizer<float>;
extern template class Optimizer<double>;
extern template class GradientDescent<float>;
extern template class GradientDescent<double>;
extern template class Momentum<float>;
extern template class Momentum<double>;
extern template class Adam<float>;
extern template class Adam<double>;
extern template class AdamW<float>;
extern template class AdamW<double>;

}  // namespace xg
