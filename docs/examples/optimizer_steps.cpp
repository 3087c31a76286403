// Each optimiser's update in numbers: one 1x1 parameter w = 1 with the
// gradient dw = 2 at every step, three steps of each, and the learning-rate
// schedules. Shown in docs/howto-deeper-network.md.
#include <cstdio>

#include <xgrad/xgrad.hpp>

namespace {

xg::Parameter<double> scalar(double w, double dw) {
    xg::Parameter<double> p(xg::Matrix<double>{{w}}, "w");
    p.grad()(0, 0) = dw;
    return p;
}

void three_steps(xg::Optimizer<double>& opt) {
    std::printf("%s:", opt.describe().c_str());
    for (int t = 1; t <= 3; ++t) {
        opt.step();  // reads w's gradient (still 2): step() never clears it
        std::printf("  w%d = %.6f", t, opt.parameters()[0].value()(0, 0));
    }
    std::printf("\n");
}

}  // namespace

int main() {
    // w ← w − α dw: 1 − 0.1 · 2 = 0.8, then 0.6, 0.4.
    xg::GradientDescent<double> gd({scalar(1, 2)}, 0.1);
    three_steps(gd);

    // v ← β v + (1 − β) dw, w ← w − α v: v = 1, 1.5, 1.75.
    xg::Momentum<double> momentum({scalar(1, 2)}, 0.1, /*beta=*/0.5);
    three_steps(momentum);

    // Adam: with a constant gradient v̂ = dw and ŝ = dw², so each step
    // moves w by α dw / (|dw| + ε) ≈ α.
    xg::Adam<double> adam({scalar(1, 2)}, 0.1);
    three_steps(adam);

    // A schedule is any α(k), k = steps taken before this one.
    const xg::Schedule schedules[] = {xg::step_decay(0.1, 0.5, /*every=*/2), xg::exponential_decay(0.1, 0.5, 2),
                                      xg::inverse_time_decay(0.1, /*decay=*/1.0, /*every=*/2)};
    for (const xg::Schedule& s : schedules) {
        std::printf("%-37s", s.describe().c_str());
        for (std::size_t k = 0; k < 6; ++k) std::printf(" %.4f", s(k));
        std::printf("\n");
    }
    xg::GradientDescent<double> decayed({scalar(1, 2)}, xg::step_decay(0.1, 0.5, 2));
    three_steps(decayed);  // α = 0.1, 0.1, 0.05

    // Bad hyper-parameters are refused.
    try {
        xg::Adam<double> bad({scalar(1, 2)}, 0.001, /*beta1=*/1.0);
    } catch (const xg::ValueError& e) {
        std::printf("ValueError: %s\n", e.what());
    }
}
