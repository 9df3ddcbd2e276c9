module fptrace.test/pingpong

go 1.19
