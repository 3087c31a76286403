// Optional: the recurrent workload of bench/lstm.hpp in LibTorch (Debian
// libtorch-dev) — torch::nn::LSTMCell unrolled over the 32 steps, autograd
// backward, in-place gradient descent — timed in the same run as xgrad's for
// a within-run ratio. Both start from the same numbers: before timing, the
// first steps' losses of the two are printed and must agree to float32
// round-off. `libtorch_dx` is LibTorch doing xgrad's work: its inputs require
// a gradient, so its backward computes dx<t> as xgrad's does. Built only when
// LibTorch is installed, on request (bench/run).
//
//   build/bench/bench_lstm_libtorch [--torch-threads=N] [google-benchmark flags]
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "lstm.hpp"

namespace {

using bench::lstm::batch;
using bench::lstm::hidden;
using bench::lstm::inputs;
using bench::lstm::steps;

/// A row-major xgrad matrix as a LibTorch tensor (copied).
torch::Tensor to_torch(const xg::Matrix<float>& m) {
    return torch::from_blob(const_cast<float*>(m.data()), {long(m.shape()[0]), long(m.shape()[1])}, torch::kFloat32)
        .clone();
}

/// LibTorch's LSTMCell on examples as rows: x (batch × inputs), states
/// (batch × hidden); its weight_ih (4 hidden × inputs) and weight_hh
/// (4 hidden × hidden) hold the gates in the order i, f, g, o.
class TorchStep final : public bench::lstm::Step {
public:
    /// With `input_gradients`, the inputs x<t> require a gradient, so the
    /// backward also computes dx<t> = W_ihᵀ · dgates, as xgrad's does (its
    /// cell's product W · [a<t−1>; x<t>] gives the gradient of both parts).
    explicit TorchStep(const bench::lstm::Problem& p, bool input_gradients = false)
        : cell_(torch::nn::LSTMCellOptions(inputs, hidden)) {
        for (const auto& x : p.x) x_.push_back(to_torch(x).t().contiguous().requires_grad_(input_gradients));
        y_ = to_torch(p.Y).t().contiguous();  // (steps · batch) × hidden, step-major rows
        const torch::Tensor W = to_torch(p.W), b = to_torch(p.b).flatten();
        // xgrad's blocks are f, i, c̃, o; LibTorch's i, f, g, o.
        const auto block = [&](const torch::Tensor& t, int k) { return t.narrow(0, long(k * hidden), long(hidden)); };
        const auto reorder = [&](const torch::Tensor& t) { return torch::cat({block(t, 1), block(t, 0), block(t, 2), block(t, 3)}, 0); };
        torch::NoGradGuard no_grad;
        cell_->weight_hh.copy_(reorder(W.narrow(1, 0, long(hidden))));
        cell_->weight_ih.copy_(reorder(W.narrow(1, long(hidden), long(inputs))));
        cell_->bias_ih.copy_(reorder(b));
        cell_->bias_hh.zero_();
    }

    double step() override {
        torch::Tensor h = torch::zeros({long(batch), long(hidden)}), c = torch::zeros({long(batch), long(hidden)});
        std::vector<torch::Tensor> hs;
        for (std::size_t t = 0; t < steps; ++t) {
            std::tie(h, c) = cell_->forward(x_[t], std::make_tuple(h, c));
            hs.push_back(h);
        }
        // xgrad's J = (1/m) Σ (H − Y)² over the 256 × 2048 H, m = its 2048 columns.
        const torch::Tensor J = (torch::cat(hs, 0) - y_).pow(2).sum() / double(steps * batch);
        cell_->zero_grad();
        J.backward();
        {
            torch::NoGradGuard no_grad;
            for (auto& w : cell_->parameters()) w.sub_(w.grad(), bench::lstm::learning_rate);
        }
        return J.item<double>();
    }

private:
    torch::nn::LSTMCell cell_;
    std::vector<torch::Tensor> x_;
    torch::Tensor y_;
};

template <class Make>
void run(benchmark::State& st, Make make) {
    static const bench::lstm::Problem problem;
    auto s = make(problem);
    double loss = s->step();
    for (auto _ : st) benchmark::DoNotOptimize(loss = s->step());
    st.counters["loss"] = loss;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<char*> args;
    for (int i = 0; i < argc; ++i) {
        if (!std::strncmp(argv[i], "--torch-threads=", 16)) torch::set_num_threads(std::atoi(argv[i] + 16));
        else args.push_back(argv[i]);
    }
    {
        const bench::lstm::Problem p;
        auto a = bench::lstm::make_xgrad(p);
        TorchStep b(p);
        for (int k = 0; k < 3; ++k) {
            const double la = a->step(), lb = b.step();
            std::fprintf(stderr, "lstm step %d loss: xgrad %.7f, LibTorch %.7f\n", k, la, lb);
            if (std::fabs(la - lb) > 1e-4 * std::fabs(lb)) {
                std::fprintf(stderr, "the two implementations disagree: not timing them\n");
                return 1;
            }
        }
    }
    int n = int(args.size());
    benchmark::Initialize(&n, args.data());
    benchmark::RegisterBenchmark("lstm/float32/xgrad", [](benchmark::State& st) { run(st, bench::lstm::make_xgrad); })
        ->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(0.5);
    benchmark::RegisterBenchmark("lstm/float32/libtorch", [](benchmark::State& st) {
        run(st, [](const bench::lstm::Problem& p) { return std::make_unique<TorchStep>(p); });
    })->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(0.5);
    // The same work as xgrad's step: dx<t> computed too.
    benchmark::RegisterBenchmark("lstm/float32/libtorch_dx", [](benchmark::State& st) {
        run(st, [](const bench::lstm::Problem& p) { return std::make_unique<TorchStep>(p, true); });
    })->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(0.5);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
