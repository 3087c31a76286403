// The recurrent workload of bench/lstm.hpp in xgrad: the unrolled graph built
// once, replayed by each step (forward, backward, gradient descent).
#include "lstm.hpp"

#include <xtensor/xnoalias.hpp>

namespace bench::lstm {
namespace {

class XgradStep final : public Step {
public:
    explicit XgradStep(const Problem& p) : cell_(xg::LSTMCell<float>(xg::Parameter<float>(p.W, "W"), xg::Parameter<float>(p.b, "b"))) {
        std::vector<xg::Var<float>> xs;
        for (std::size_t t = 0; t < steps; ++t) xs.push_back(g_.input(p.x[t], "x<" + std::to_string(t + 1) + ">"));
        const xg::LSTMState<float> s0{xg::initial_state(g_, hidden, batch), xg::initial_state(g_, hidden, batch, "c<0>")};
        std::vector<xg::Var<float>> a;
        for (const auto& s : xg::unroll(cell_, xs, s0)) a.push_back(s.a);
        J_ = xg::mean_squared_error(xg::concat_columns(a), g_.input(p.Y, "Y"));
        params_ = cell_.parameters();
    }

    double step() override {
        g_.forward();
        g_.backward(J_);
        for (xg::Parameter<float>& p : params_) xt::noalias(p.value()) -= float(learning_rate) * p.grad();
        return double(J_.value()(0, 0));
    }

private:
    xg::LSTMCell<float> cell_;
    xg::Graph<float> g_;
    xg::Var<float> J_;
    std::vector<xg::Parameter<float>> params_;
};

}  // namespace

std::unique_ptr<Step> make_xgrad(const Problem& p) { return std::make_unique<XgradStep>(p); }

}  // namespace bench::lstm
