module example.com/fakelab

go 1.21
