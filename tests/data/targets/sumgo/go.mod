module example.com/sumgo

go 1.21
