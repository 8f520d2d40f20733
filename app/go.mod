module calculator

go 1.26
