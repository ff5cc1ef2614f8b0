module example.com/lintdrill/bad

go 1.21
