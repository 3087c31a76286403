// Runs N training steps of one variant, for profilers (perf, callgrind,
// heaptrack) that should see nothing else:
//   build/bench/profile_step xgrad|hand_xtensor|floor|floor_vec S|M|L float64|float32 [N]
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "two_layer_step.hpp"

namespace {

template <class T>
int run(const std::string& variant, const bench::Size& s, int n) {
    const bench::Problem<T> p(s);
    std::unique_ptr<bench::Step<T>> step;
    if (variant == "xgrad") step = bench::make_xgrad(p);
    else if (variant == "hand_xtensor") step = bench::make_hand_xtensor(p);
    else if (variant == "floor") step = bench::make_floor(p);
    else if (variant == "floor_vec") step = bench::make_floor_vec(p);
    else return std::fprintf(stderr, "unknown variant %s\n", variant.c_str()), 2;
    double cost = 0;
    for (int k = 0; k < n; ++k) cost = step->step();
    std::printf("%s %s after %d steps: cost %.10f\n", variant.c_str(), s.name, n, cost);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: %s xgrad|hand_xtensor|floor|floor_vec S|M|L float64|float32 [steps]\n", argv[0]);
        return 2;
    }
    const int n = argc > 4 ? std::atoi(argv[4]) : 10;
    for (const bench::Size& s : bench::sizes) {
        if (s.name != std::string(argv[2])) continue;
        return std::string(argv[3]) == "float32" ? run<float>(argv[1], s, n) : run<double>(argv[1], s, n);
    }
    std::fprintf(stderr, "unknown size %s\n", argv[2]);
    return 2;
}
