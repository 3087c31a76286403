// Optional: the same two-layer training step in LibTorch (Debian
// libtorch-dev), timed in the same run as xgrad's step for a within-run
// ratio. Built only when LibTorch is installed; xgrad never needs it.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cstdio>
#include <cstring>
#include <string>

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

template <class T>
void register_size(const bench::Size& s) {
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
            std::fprintf(stderr, "%s %s %-8s cost after 5 steps %.10f\n", s.name, type_name<T>(), v, cost);
        }
        const std::string name = std::string("step/") + s.name + "/" + type_name<T>() + "/" + v;
        benchmark::RegisterBenchmark(name.c_str(), [s, make](benchmark::State& state) {
            const bench::Problem<T> p(s);
            auto st = make(p);
            for (auto _ : state) benchmark::DoNotOptimize(st->step());
        })->Unit(benchmark::kMicrosecond)->UseRealTime()->MinTime(s.m * s.n1 >= 1000000 ? 1.0 : 0.2);
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::string sizes = "S,M,L";
    std::vector<char*> args;
    for (int i = 0; i < argc; ++i) {
        if (!std::strncmp(argv[i], "--sizes=", 8)) sizes = argv[i] + 8;
        else args.push_back(argv[i]);
    }
    int n = int(args.size());
    benchmark::Initialize(&n, args.data());
    for (const bench::Size& s : bench::sizes) {
        if (sizes.find(s.name) == std::string::npos) continue;
        register_size<double>(s);
        register_size<float>(s);
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
}
