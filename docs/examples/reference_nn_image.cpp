// The image layers of docs/reference/nn.md: Conv2d, MaxPool2d, AvgPool2d on
// their own and in a Sequential, its summary, and their errors.
#include <cstdio>

#include <xgrad/xgrad.hpp>

int main() {
    {
        // A layer on its own: 2 kernels of 3x3 over 1x5x5 images, zero padding 1.
        xg::Rng rng(1);
        const xg::Conv2d<double> conv(xg::Conv2dSpec{{1, 5, 5}, /*kernel=*/3, /*stride=*/1, /*padding=*/1},
                                      /*out_channels=*/2, xg::Activation::relu, rng, xg::init::he(), "1");
        const xg::MaxPool2d<double> pool(xg::Pool2dSpec{{2, 5, 5}, /*window=*/5, /*stride=*/5}, "2");
        xg::Graph<double> g;
        auto X = g.input(xg::Matrix<double>(xt::ones<double>({25, 3})), "X");
        auto A = pool(conv(X));
        std::printf("%s: W1 [%s], b1 [%s]; %zu -> %zu rows per image\n", conv.describe().c_str(),
                    xg::to_string(conv.W.shape()).c_str(), xg::to_string(conv.b.shape()).c_str(), conv.n_in(),
                    conv.n_out());
        std::printf("%s: %s [%s]\n", pool.describe().c_str(), A.name().c_str(), xg::to_string(A.shape()).c_str());
    }

    // A CNN for 28 x 28 grey images: the Fashion-MNIST example's network.
    xg::Sequential<float> cnn(xg::ImageShape{1, 28, 28}, /*seed=*/1);
    cnn.add_conv2d(32, 3, xg::Activation::relu, /*stride=*/1, /*padding=*/1).add_max_pool2d(2);
    cnn.add_conv2d(64, 3, xg::Activation::relu, /*stride=*/1, /*padding=*/1).add_max_pool2d(2);
    cnn.add(128, xg::Activation::relu).add(10, xg::Activation::identity, xg::init::xavier());
    std::printf("\n%s\n%s", cnn.describe().c_str(), cnn.summary().c_str());
    const xg::Conv2d<float>& first = cnn.layer_as<xg::Conv2d<float>>(0);
    std::printf("layer 1: W1 [%s], padding %zu; layer 5 reads %zu features\n",
                xg::to_string(first.W.shape()).c_str(), first.spec().padding, cnn.dense(4).n_in());

    // Errors.
    const auto report = [](const char* what, auto&& f) {
        try {
            f();
            std::printf("%s: no error\n", what);
        } catch (const xg::Error& e) {
            std::printf("%s: %s\n", what, e.what());
        }
    };
    std::printf("\n");
    report("pooling after Dense", [&] { xg::Sequential<float>(cnn).add_max_pool2d(2); });
    report("untiled windows", [] { xg::Sequential<float>(xg::ImageShape{1, 5, 5}).add_max_pool2d(2); });
    report("wrong kind", [&] { cnn.dense(0); });
}
