module example.com/escapecases

go 1.21
