module fptrace/bench/peers

go 1.19
