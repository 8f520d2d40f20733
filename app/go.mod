module calculator

go 1.26

// The Go that builds the service, everywhere: scripts/go-toolchain.sh reads
// this line; the Dockerfile's default builder image and the workflows name
// the same version (a test keeps them in agreement).
toolchain go1.27.3
