module example.com/benchcap

go 1.21
