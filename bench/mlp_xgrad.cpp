// The MLP workload in xgrad, written as docs/howto-deeper-network.md trains
// a model: the graph built once on the mini-batches' input leaves, replayed
// for every batch, Adam stepping model.parameters().
#include "mlp.hpp"

namespace bench::mlp {
namespace {

template <class T>
class XgradTrainer final : public Trainer {
public:
    XgradTrainer(const Data<T>& data, bool shuffle)
        : model_(initial_model<T>()), batches_(data.X, data.Y, batch_size, shuffle_seed, shuffle),
          opt_(model_.parameters(), learning_rate) {
        auto [X, Y] = batches_.inputs(g_);
        X_ = X;
        Y_ = Y;
        J_ = xg::softmax_cross_entropy(model_(X_), Y_).named("J");
    }

    std::vector<double> run(std::size_t max_batches) override {
        std::vector<double> losses;
        losses.reserve(batches_.batches());
        for (const xg::Batch<T>& batch : batches_.next_epoch()) {
            if (losses.size() == max_batches) break;
            g_.set_value(X_, batch.X);
            g_.set_value(Y_, batch.Y);
            g_.forward();
            g_.backward(J_);
            opt_.step();
            losses.push_back(double(J_.value()(0, 0)));
        }
        return losses;
    }

private:
    xg::Sequential<T> model_;
    xg::MiniBatches<T> batches_;
    xg::Adam<T> opt_;
    xg::Graph<T> g_;
    xg::Var<T> X_, Y_, J_;
};

}  // namespace

template <class T>
std::unique_ptr<Trainer> make_xgrad(const Data<T>& data, bool shuffle) {
    return std::make_unique<XgradTrainer<T>>(data, shuffle);
}

template std::unique_ptr<Trainer> make_xgrad(const Data<float>&, bool);
template std::unique_ptr<Trainer> make_xgrad(const Data<double>&, bool);

}  // namespace bench::mlp
