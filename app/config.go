package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"
)

type config struct {
	Port             int
	LogLevel         slog.Level
	ShutdownTimeout  time.Duration
	DrainDelay       time.Duration
	IdleTimeout      time.Duration
	LogFlushInterval time.Duration
	// DebugAddr is where pprof and expvar are served; empty: nowhere.
	DebugAddr string
	Limits    limits
}

// limits bound what one connection may cost. They are not configurable;
// tests shorten them to see them act.
type limits struct {
	ReadHeaderTimeout time.Duration // a client trickling its headers is cut off after this
	ReadTimeout       time.Duration // the whole request, body included
	WriteTimeout      time.Duration // the response
	MaxHeaderBytes    int           // larger headers get 431
}

var defaultLimits = limits{
	ReadHeaderTimeout: 5 * time.Second,
	ReadTimeout:       15 * time.Second,
	WriteTimeout:      15 * time.Second,
	MaxHeaderBytes:    16 << 10,
}

// loadConfig reads the environment. Each bad variable is named in the error,
// with what it accepts; all of them are reported at once.
//
//	PORT              TCP port to listen on, 1-65535 (default 8080)
//	LOG_LEVEL         debug | info | warn | error (default info)
//	SHUTDOWN_TIMEOUT  Go duration to let in-flight requests finish, > 0 (default 20s)
//	DRAIN_DELAY       Go duration to keep serving after SIGTERM while /readyz
//	                  answers 503, >= 0 (default 0s: ECS takes a task out of its
//	                  target group before it sends SIGTERM; set it where a load
//	                  balancer learns of the drain only by polling /readyz)
//	IDLE_TIMEOUT      Go duration a keep-alive connection may sit idle before
//	                  the server closes it, > 0 (default 65s: it must exceed
//	                  the load balancer's idle timeout, 60s on an ALB, or the
//	                  ALB may send a request on a connection being closed, 502)
//	LOG_FLUSH_INTERVAL
//	                  Go duration between writes of the buffered log lines,
//	                  >= 0 (default 100ms; 0s writes each line at once)
//	DEBUG_ADDR        host:port of a listener for /debug/pprof/ and
//	                  /debug/vars (expvar: requests, log lines dropped), never
//	                  the service's port (default empty: no such listener;
//	                  keep it on 127.0.0.1 or a port nothing outside reaches)
func loadConfig(getenv func(string) string) (config, error) {
	cfg := config{
		Port:             8080,
		LogLevel:         slog.LevelInfo,
		ShutdownTimeout:  20 * time.Second,
		IdleTimeout:      65 * time.Second,
		LogFlushInterval: 100 * time.Millisecond,
		Limits:           defaultLimits,
	}
	var errs []error

	if v := getenv("PORT"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 || p > 65535 {
			errs = append(errs, fmt.Errorf("PORT=%q is invalid: want an integer from 1 to 65535", v))
		} else {
			cfg.Port = p
		}
	}
	if v := getenv("LOG_LEVEL"); v != "" {
		switch strings.ToLower(v) {
		case "debug":
			cfg.LogLevel = slog.LevelDebug
		case "info":
			cfg.LogLevel = slog.LevelInfo
		case "warn":
			cfg.LogLevel = slog.LevelWarn
		case "error":
			cfg.LogLevel = slog.LevelError
		default:
			errs = append(errs, fmt.Errorf("LOG_LEVEL=%q is invalid: want debug, info, warn or error", v))
		}
	}
	// duration reads a Go duration no less than least, or reports what it accepts.
	duration := func(name string, dst *time.Duration, least time.Duration, want string) {
		v := getenv(name)
		if v == "" {
			return
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < least {
			errs = append(errs, fmt.Errorf("%s=%q is invalid: want %s", name, v, want))
			return
		}
		*dst = d
	}
	duration("SHUTDOWN_TIMEOUT", &cfg.ShutdownTimeout, time.Nanosecond, "a positive Go duration such as 20s or 1m")
	duration("DRAIN_DELAY", &cfg.DrainDelay, 0, "a Go duration of 0s or more, such as 5s")
	duration("IDLE_TIMEOUT", &cfg.IdleTimeout, time.Nanosecond, "a positive Go duration such as 65s")
	duration("LOG_FLUSH_INTERVAL", &cfg.LogFlushInterval, 0, "a Go duration of 0s or more, such as 100ms")
	if v := getenv("DEBUG_ADDR"); v != "" {
		_, port, err := net.SplitHostPort(v)
		p, perr := strconv.Atoi(port)
		switch {
		case err != nil || perr != nil || p < 1 || p > 65535:
			errs = append(errs, fmt.Errorf("DEBUG_ADDR=%q is invalid: want host:port, such as 127.0.0.1:6060", v))
		case p == cfg.Port:
			errs = append(errs, fmt.Errorf("DEBUG_ADDR=%q is invalid: it is the service's PORT; the debug listener needs a port of its own", v))
		default:
			cfg.DebugAddr = v
		}
	}
	if err := errors.Join(errs...); err != nil {
		return config{}, fmt.Errorf("invalid configuration:\n%w", err)
	}
	return cfg, nil
}
