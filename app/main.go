// Command app serves the calculator over HTTP.
//
//	app               serve on $PORT until SIGTERM or SIGINT, then drain and exit 0;
//	                  a second SIGTERM or SIGINT ends the drain at once (exit 1)
//	app healthcheck   probe the local /healthz; exit 0 when healthy, 1 otherwise
//	app version       print the build's version and Go version
//
// Configuration is from the environment; see loadConfig.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"calculator/internal/logbuf"
	"calculator/internal/server"
)

// Stamped at build time: go build -ldflags "-X main.version=...". The
// deployed image's version names its source (see infra/source.ts).
var version = "dev"

func main() {
	// The first signal starts the drain; a second one ends it (see serve).
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, syscall.SIGTERM, os.Interrupt)
	if err := run(context.Background(), signals, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "app: %v\n", err)
		os.Exit(1)
	}
}

// run is the whole program. It serves until ctx ends or a signal arrives on
// signals (nil: none will), then drains.
func run(ctx context.Context, signals <-chan os.Signal, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := ""
	if len(args) > 1 {
		cmd = args[1]
	}
	switch cmd {
	case "":
		cfg, err := loadConfig(getenv)
		if err != nil {
			return err
		}
		return serve(ctx, signals, cfg, stdout)
	case "healthcheck":
		cfg, err := loadConfig(getenv)
		if err != nil {
			return err
		}
		return healthcheck(ctx, cfg.Port)
	case "version":
		_, err := fmt.Fprintf(stdout, "%s %s\n", version, runtime.Version())
		return err
	default:
		return fmt.Errorf("unknown command %q; usage: app [healthcheck|version]", cmd)
	}
}

func serve(ctx context.Context, signals <-chan os.Signal, cfg config, stdout io.Writer) error {
	logOut := stdout
	if cfg.LogFlushInterval > 0 {
		// A write per request line costs more CPU than the request itself.
		buffered := logbuf.New(stdout, cfg.LogFlushInterval, 64<<10)
		defer buffered.Close()
		servingLog.Store(buffered)
		logOut = buffered
	}
	logger := slog.New(slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: cfg.LogLevel}))
	readiness := &server.Readiness{}
	info := server.BuildInfo{Name: "calculator", Version: version, GoVersion: runtime.Version()}
	srv := &http.Server{
		Addr:              net.JoinHostPort("", strconv.Itoa(cfg.Port)),
		Handler:           countRequests(server.NewServer(logger, info, readiness)),
		ReadHeaderTimeout: cfg.Limits.ReadHeaderTimeout,
		ReadTimeout:       cfg.Limits.ReadTimeout,
		WriteTimeout:      cfg.Limits.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.Limits.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", srv.Addr)
	if err != nil {
		return fmt.Errorf("listen on port %d: %w", cfg.Port, err)
	}
	logger.Info("listening", "addr", ln.Addr().String(), "version", version)
	if cfg.DebugAddr != "" {
		debug, err := startDebug(cfg.DebugAddr, cfg.Limits.ReadHeaderTimeout, logger)
		if err != nil {
			_ = ln.Close()
			return err
		}
		defer debug.Close()
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	case <-signals:
	}

	// Draining: fail readiness first so no new traffic is sent here, and
	// answer with Connection: close (idle keep-alive connections are closed
	// now) so clients take their next request elsewhere. Keep serving for
	// DRAIN_DELAY, then stop accepting and let in-flight requests finish
	// within SHUTDOWN_TIMEOUT. A second signal ends all of it at once.
	readiness.Drain()
	srv.SetKeepAlivesEnabled(false)
	logger.Info("draining", "drain_delay", cfg.DrainDelay.String(), "timeout", cfg.ShutdownTimeout.String())
	stopNow := func(sig os.Signal) error {
		_ = srv.Close()
		logger.Warn("drain ended by a second signal", "signal", sig.String())
		return fmt.Errorf("a second %s ended the drain: open connections were closed", sig)
	}
	select { // with no DRAIN_DELAY, at once
	case <-time.After(cfg.DrainDelay):
	case sig := <-signals:
		return stopNow(sig)
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	shutdown := make(chan error, 1)
	go func() { shutdown <- srv.Shutdown(shutdownCtx) }()
	select {
	case err := <-shutdown:
		if err != nil {
			_ = srv.Close()
			return fmt.Errorf("shutdown: in-flight requests did not finish within SHUTDOWN_TIMEOUT=%s: %w", cfg.ShutdownTimeout, err)
		}
	case sig := <-signals:
		err := stopNow(sig)
		<-shutdown // Close makes Shutdown return at once
		return err
	}
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	logger.Info("stopped")
	return nil
}

// healthcheck is the container health check for an image with no shell or
// curl. It speaks HTTP/1.1 over a plain connection rather than through
// http.Client, which keeps the client transport (TLS, HTTP/2, proxies) and
// about 0.5 MB out of the binary.
func healthcheck(ctx context.Context, port int) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: "+addr+"\r\nUser-Agent: app-healthcheck\r\nConnection: close\r\n\r\n"); err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: http://%s/healthz answered %s", addr, resp.Status)
	}
	return nil
}
