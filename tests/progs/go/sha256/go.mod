module fptrace.test/sha256

go 1.19
