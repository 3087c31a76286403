// Optional: the same two-layer training step, the same epoch of the MLP of
// bench/mlp.hpp, and the same conv layers and CNN step of bench/cnn.hpp, in
// LibTorch (Debian libtorch-dev), timed in the same run as xgrad's for
// within-run ratios. Built only when LibTorch is installed; xgrad never
// needs it.
//
//   build/bench/bench_libtorch [--sizes=S,M,L] [--examples=N] [--no-mlp] [--no-cnn] [--torch-threads=N]
//                              [google-benchmark flags]
// (--torch-threads: torch::set_num_threads(N) instead of LibTorch's default.)
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>

#include "cnn.hpp"
#include "mlp.hpp"
#include "two_layer_step.hpp"

namespace {

template <class T>
torch::Tensor to_torch(const xg::Matrix<T>& m) {
    const auto dtype = sizeof(T) == 8 ? torch::kFloat64 : torch::kFloat32;
    return torch::from_blob(const_cast<T*>(m.data()), {long(m.shape()[0]), long(m.shape()[1])},
                            torch::TensorOptions().dtype(dtype))
        .clone();
}

/// Z1 = W1·X + b1, A1 = tanh, Z2 = W2·A1 + b2, J = BCE from the logits
/// (summed, divided by m), autograd backward, in-place gradient descent.
template <class T>
class TorchStep final : public bench::Step<T> {
public:
    explicit TorchStep(const bench::Problem<T>& p)
        : X(to_torch(p.X)), Y(to_torch(p.Y)), W1(to_torch(p.W1).requires_grad_()), b1(to_torch(p.b1).requires_grad_()),
          W2(to_torch(p.W2).requires_grad_()), b2(to_torch(p.b2).requires_grad_()), lr(p.learning_rate),
          m(double(p.X.shape()[1])) {}

    double step() override {
        auto Z1 = torch::addmm(b1, W1, X);
        auto A1 = torch::tanh(Z1);
        auto Z2 = torch::addmm(b2, W2, A1);
        auto J = torch::binary_cross_entropy_with_logits(Z2, Y, {}, {}, at::Reduction::Sum) / m;
        for (auto* w : {&W1, &b1, &W2, &b2}) {
            if (w->grad().defined()) w->grad().zero_();
        }
        J.backward();
        {
            torch::NoGradGuard no_grad;
            for (auto* w : {&W1, &b1, &W2, &b2}) w->sub_(w->grad(), lr);
        }
        return J.item<double>();
    }

private:
    torch::Tensor X, Y, W1, b1, W2, b2;
    double lr, m;
};

template <class T>
const char* type_name() { return sizeof(T) == 8 ? "float64" : "float32"; }

/// The MLP as a LibTorch user writes it: examples as rows (m × 784),
/// nn::Linear layers holding xgrad's initial W (n_out × n_in, LibTorch's
/// layout too) and b, cross_entropy (mean over the batch), optim::Adam; a
/// batch is index_select of the epoch's randperm (arange for the check).
template <class T>
class TorchMlp final : public bench::mlp::Trainer {
public:
    TorchMlp(const bench::mlp::Data<T>& data, bool shuffle)
        : X_(to_torch(data.X).t().contiguous()), y_(to_torch(data.Y).flatten().to(torch::kLong)),
          l1_(bench::mlp::n_in, bench::mlp::n_h1), l2_(bench::mlp::n_h1, bench::mlp::n_h2),
          l3_(bench::mlp::n_h2, bench::mlp::classes), shuffle_(shuffle) {
        const auto model = bench::mlp::initial_model<T>();
        torch::nn::Linear* layers[] = {&l1_, &l2_, &l3_};
        for (std::size_t i = 0; i < 3; ++i) {
            auto& l = *layers[i];
            l->to(sizeof(T) == 8 ? torch::kFloat64 : torch::kFloat32);
            torch::NoGradGuard no_grad;
            l->weight.copy_(to_torch(model.dense(i).W.value()));
            l->bias.copy_(to_torch(model.dense(i).b.value()).flatten());
        }
        std::vector<torch::Tensor> params;
        for (auto* l : layers)
            for (auto& p : (*l)->parameters()) params.push_back(p);
        opt_ = std::make_unique<torch::optim::Adam>(params, torch::optim::AdamOptions(bench::mlp::learning_rate));
        torch::manual_seed(bench::mlp::shuffle_seed);
    }

    std::vector<double> run(std::size_t max_batches) override {
        const long m = X_.size(0), b = long(bench::mlp::batch_size);
        const auto order = shuffle_ ? torch::randperm(m, torch::kLong) : torch::arange(m, torch::kLong);
        std::vector<double> losses;
        losses.reserve(std::size_t((m + b - 1) / b));
        for (long start = 0; start < m && losses.size() < max_batches; start += b) {
            const auto idx = order.slice(0, start, std::min(start + b, m));
            const auto xb = X_.index_select(0, idx);
            const auto yb = y_.index_select(0, idx);
            auto logits = l3_(torch::relu(l2_(torch::relu(l1_(xb)))));
            auto loss = torch::nn::functional::cross_entropy(logits, yb);
            opt_->zero_grad();
            loss.backward();
            opt_->step();
            losses.push_back(loss.item<double>());
        }
        return losses;
    }

private:
    torch::Tensor X_, y_;
    torch::nn::Linear l1_, l2_, l3_;
    std::unique_ptr<torch::optim::Adam> opt_;
    bool shuffle_;
};

/// Relative tolerance on the costs (losses) checked against xgrad's: the
/// two sum in different orders (and in the MLP, Adam's division by √ŝ + ε
/// amplifies the rounding of gradients near 0). The values printed below
/// agree to all 10 decimals in float64 and within about 1e-7 relative in
/// float32, so the check asks for the digits printed: 1e-9 in float64, 1e-6
/// (6 significant digits) in float32; a wrong step differs in the first digits.
template <class T>
constexpr double tolerance = sizeof(T) == 8 ? 1e-9 : 1e-6;

template <class T>
bool agree(double got, double want) {
    return std::fabs(got - want) <= tolerance<T> * std::max(1.0, std::fabs(want));
}

/// Checks that LibTorch's cost after 5 steps is xgrad's, then registers a
/// step of each. False when they disagree.
template <class T>
bool register_size(const bench::Size& s) {
    double ref = 0;
    bool ok = true;
    for (const char* v : {"xgrad", "libtorch"}) {
        auto make = [v](const bench::Problem<T>& p) -> std::unique_ptr<bench::Step<T>> {
            if (!std::strcmp(v, "xgrad")) return bench::make_xgrad(p);
            return std::make_unique<TorchStep<T>>(p);
        };
        {
            const bench::Problem<T> p(s);
            auto st = make(p);
            double cost = 0;
            for (int k = 0; k < 5; ++k) cost = st->step();
            if (!std::strcmp(v, "xgrad")) ref = cost;
            const bool good = agree<T>(cost, ref);
            ok = ok && good;
            std::fprintf(stderr, "%s %s %-8s cost after 5 steps %.10f%s\n", s.name, type_name<T>(), v, cost,
                         good ? "" : "  <-- DIFFERS");
        }
        const std::string name = std::string("step/") + s.name + "/" + type_name<T>() + "/" + v;
        benchmark::RegisterBenchmark(name.c_str(), [s, make](benchmark::State& state) {
            const bench::Problem<T> p(s);
            auto st = make(p);
            for (auto _ : state) benchmark::DoNotOptimize(st->step());
        })->Unit(benchmark::kMicrosecond)->UseRealTime()->MinTime(s.m * s.n1 >= 1000000 ? 1.0 : 0.2);
    }
    return ok;
}

/// Checks that LibTorch's losses of the first batches (in order) are xgrad's,
/// then registers one epoch of each. False when they disagree.
template <class T>
bool register_mlp(std::size_t m) {
    const bench::mlp::Data<T> check(bench::mlp::check_batches * bench::mlp::batch_size);
    const auto ref = bench::mlp::make_xgrad(check, false)->run(bench::mlp::check_batches);
    const auto got = TorchMlp<T>(check, false).run(bench::mlp::check_batches);
    bool ok = got.size() == ref.size();
    for (std::size_t k = 0; ok && k < ref.size(); ++k)
        ok = agree<T>(got[k], ref[k]);
    for (const auto* v : {&ref, &got}) {
        std::fprintf(stderr, "mlp %s %-8s losses of the first %zu batches:", type_name<T>(),
                     v == &ref ? "xgrad" : "libtorch", v->size());
        for (double l : *v) std::fprintf(stderr, " %.10f", l);
        std::fprintf(stderr, "%s\n", v == &got && !ok ? "  <-- DIFFERS" : "");
    }
    for (const char* v : {"xgrad", "libtorch"}) {
        const std::string name = std::string("mlp/") + type_name<T>() + "/" + v;
        const double last = ref.back();
        benchmark::RegisterBenchmark(name.c_str(), [v, m, last](benchmark::State& st) {
            static const bench::mlp::Data<T> data(m);
            std::unique_ptr<bench::mlp::Trainer> t;
            if (!std::strcmp(v, "xgrad")) t = bench::mlp::make_xgrad(data, true);
            else t = std::make_unique<TorchMlp<T>>(data, true);
            for (auto _ : st) benchmark::DoNotOptimize(t->run());
            st.counters["loss_check"] = last;
            st.counters["examples"] = double(m);
        })->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(0.1);
    }
    return ok;
}

/// The conv layer of bench/cnn.hpp as a LibTorch user writes it: NCHW
/// tensors, torch::conv2d with its bias, relu, max_pool2d, J = Σ, autograd.
template <class T>
class TorchConv final : public bench::cnn::Runner {
public:
    explicit TorchConv(const bench::cnn::ConvData<T>& d) : s_(d.shape) {
        const long m = long(bench::cnn::batch_size), k = long(bench::cnn::kernel);
        X_ = to_torch(d.X).t().contiguous().view({m, long(s_.C), long(s_.H), long(s_.W)});
        if (s_.input_grad) X_.requires_grad_();
        K_ = to_torch(d.K).view({long(s_.Kout), long(s_.C), k, k}).requires_grad_();
        b_ = to_torch(d.b).flatten().requires_grad_();
    }

    double step() override {
        for (auto* w : {&X_, &K_, &b_}) {
            if (w->grad().defined()) w->grad().zero_();
        }
        auto A = torch::relu(torch::conv2d(X_, K_, b_, 1, long(bench::cnn::padding)));
        auto P = torch::max_pool2d(A, long(bench::cnn::window), long(bench::cnn::window));
        auto J = P.sum();
        J.backward();
        return J.item<double>();
    }

    std::vector<double> grad_sums() const override {
        std::vector<double> s{K_.grad().abs().sum().item<double>(), b_.grad().abs().sum().item<double>()};
        if (s_.input_grad) s.push_back(X_.grad().abs().sum().item<double>());
        return s;
    }

private:
    bench::cnn::ConvShape s_;
    torch::Tensor X_, K_, b_;
};

/// The CNN of bench/cnn.hpp in LibTorch: conv2d/relu/max_pool2d blocks,
/// linear layers on the flattened P2 (C·H·W order, as xgrad's rows),
/// cross_entropy (mean over the batch), optim::Adam.
template <class T>
class TorchCnn final : public bench::cnn::Runner {
public:
    explicit TorchCnn(const bench::cnn::CnnData<T>& d) {
        const long m = long(bench::cnn::batch_size);
        X_ = to_torch(d.X).t().contiguous().view({m, 1, 28, 28});
        y_ = to_torch(d.Y).flatten().to(torch::kLong);
        K1_ = to_torch(d.K1).view({32, 1, 3, 3}).requires_grad_();
        b1_ = to_torch(d.b1).flatten().requires_grad_();
        K2_ = to_torch(d.K2).view({64, 32, 3, 3}).requires_grad_();
        b2_ = to_torch(d.b2).flatten().requires_grad_();
        W3_ = to_torch(d.W3).requires_grad_();
        b3_ = to_torch(d.b3).flatten().requires_grad_();
        W4_ = to_torch(d.W4).requires_grad_();
        b4_ = to_torch(d.b4).flatten().requires_grad_();
        opt_ = std::make_unique<torch::optim::Adam>(std::vector<torch::Tensor>{K1_, b1_, K2_, b2_, W3_, b3_, W4_, b4_},
                                                    torch::optim::AdamOptions(bench::cnn::learning_rate));
    }

    double step() override {
        const long p = long(bench::cnn::padding), w = long(bench::cnn::window);
        auto P1 = torch::max_pool2d(torch::relu(torch::conv2d(X_, K1_, b1_, 1, p)), w, w);
        auto P2 = torch::max_pool2d(torch::relu(torch::conv2d(P1, K2_, b2_, 1, p)), w, w);
        auto H = torch::relu(torch::linear(P2.flatten(1), W3_, b3_));
        auto Z = torch::linear(H, W4_, b4_);
        auto loss = torch::nn::functional::cross_entropy(Z, y_);
        opt_->zero_grad();
        loss.backward();
        opt_->step();
        return loss.item<double>();
    }

    std::vector<double> grad_sums() const override { return {}; }

private:
    torch::Tensor X_, y_, K1_, b1_, K2_, b2_, W3_, b3_, W4_, b4_;
    std::unique_ptr<torch::optim::Adam> opt_;
};

/// Relative tolerance of the conv checks: float32 sums of 10⁵–10⁶ terms in
/// different orders (im2col + gemm against LibTorch's own kernels) differ
/// by a few 1e-6 relative.
template <class T>
constexpr double conv_tolerance = sizeof(T) == 8 ? 1e-9 : 1e-4;

/// The numbers of `r` after `steps` iterations: each step's J, then the gradient sums.
std::vector<double> check_numbers(bench::cnn::Runner& r, int steps) {
    std::vector<double> out;
    for (int k = 0; k < steps; ++k) out.push_back(r.step());
    for (double g : r.grad_sums()) out.push_back(g);
    return out;
}

/// Checks that LibTorch's numbers are xgrad's (J and the gradient sums of a
/// conv layer; the CNN's losses of 5 Adam steps), then registers both.
/// False when they disagree.
template <class T, class Data, class MakeX, class MakeT>
bool register_cnn_pair(const std::string& prefix, const Data& check, int steps, MakeX make_x, MakeT make_t,
                       std::function<Data()> fresh) {
    const auto ref = check_numbers(*make_x(check), steps);
    const auto got = check_numbers(*make_t(check), steps);
    bool ok = got.size() == ref.size();
    for (std::size_t k = 0; ok && k < ref.size(); ++k)
        ok = std::fabs(got[k] - ref[k]) <= conv_tolerance<T> * std::max(1.0, std::fabs(ref[k]));
    for (const auto* v : {&ref, &got}) {
        std::fprintf(stderr, "%s %-8s", prefix.c_str(), v == &ref ? "xgrad" : "libtorch");
        for (double x : *v) std::fprintf(stderr, " %.10g", x);
        std::fprintf(stderr, "%s\n", v == &got && !ok ? "  <-- DIFFERS" : "");
    }
    for (const char* v : {"xgrad", "libtorch"}) {
        const std::string name = prefix + "/" + v;
        const bool x = !std::strcmp(v, "xgrad");
        benchmark::RegisterBenchmark(name.c_str(), [x, make_x, make_t, fresh](benchmark::State& st) {
            const Data data = fresh();
            auto r = x ? make_x(data) : make_t(data);
            for (auto _ : st) benchmark::DoNotOptimize(r->step());
        })->Unit(benchmark::kMicrosecond)->UseRealTime()->MinTime(0.2);
    }
    return ok;
}

template <class T>
bool register_cnn() {
    using namespace bench::cnn;
    bool ok = true;
    for (const ConvShape& s : conv_shapes) {
        const ConvData<T> check(s);
        ok = register_cnn_pair<T, ConvData<T>>(
                 std::string("conv/") + s.name + "/" + type_name<T>(), check, 1,
                 [](const ConvData<T>& d) { return make_xgrad_conv(d); },
                 [](const ConvData<T>& d) -> std::unique_ptr<Runner> { return std::make_unique<TorchConv<T>>(d); },
                 [s] { return ConvData<T>(s); }) &&
             ok;
    }
    const CnnData<T> check;
    ok = register_cnn_pair<T, CnnData<T>>(
             std::string("cnn/") + type_name<T>(), check, 5, [](const CnnData<T>& d) { return make_xgrad_cnn(d); },
             [](const CnnData<T>& d) -> std::unique_ptr<Runner> { return std::make_unique<TorchCnn<T>>(d); },
             [] { return CnnData<T>(); }) &&
         ok;
    return ok;
}

}  // namespace

int main(int argc, char** argv) {
    std::string sizes = "S,M,L";
    std::size_t m = bench::mlp::examples;
    bool mlp = true, cnn = true;
    int torch_threads = 0;
    std::vector<char*> args;
    for (int i = 0; i < argc; ++i) {
        if (!std::strncmp(argv[i], "--sizes=", 8)) sizes = argv[i] + 8;
        else if (!std::strncmp(argv[i], "--examples=", 11)) m = std::strtoul(argv[i] + 11, nullptr, 10);
        else if (!std::strcmp(argv[i], "--no-mlp")) mlp = false;
        else if (!std::strcmp(argv[i], "--no-cnn")) cnn = false;
        else if (!std::strncmp(argv[i], "--torch-threads=", 16)) torch_threads = std::atoi(argv[i] + 16);
        else args.push_back(argv[i]);
    }
    if (m < bench::mlp::batch_size) {
        std::fprintf(stderr, "--examples must be at least one batch (%zu)\n", bench::mlp::batch_size);
        return 2;
    }
    int n = int(args.size());
    benchmark::Initialize(&n, args.data());
    if (torch_threads > 0) torch::set_num_threads(torch_threads);
    std::fprintf(stderr, "LibTorch runs on %d threads (torch::get_num_threads); xgrad on %zu, OpenBLAS on its own\n",
                 torch::get_num_threads(), xg::threads());
    bool ok = true;
    for (const bench::Size& s : bench::sizes) {
        if (sizes.find(s.name) == std::string::npos) continue;
        ok = register_size<double>(s) && ok;
        ok = register_size<float>(s) && ok;
    }
    if (mlp) {
        ok = register_mlp<double>(m) && ok;
        ok = register_mlp<float>(m) && ok;
    }
    if (cnn) {
        ok = register_cnn<float>() && ok;
        ok = register_cnn<double>() && ok;
    }
    if (!ok) {
        std::fprintf(stderr, "LibTorch and xgrad disagree: not timing a wrong step\n");
        return 1;
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
}
