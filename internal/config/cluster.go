package config

import (
	"time"

	"github.com/agentexec/agentexec/internal/duration"
)

// SlurmDefaults are the [slurm] section (SPEC §11.7): defaults for jobs run
// with the Slurm backend; the job's own --slurm-* flags override them.
type SlurmDefaults struct {
	Partition string        // slurm.partition
	Time      time.Duration // slurm.time, a duration such as "2h"
	CPUs      int           // slurm.cpus (≥ 1)
	MemMB     int64         // slurm.mem_mb (≥ 1)
	Args      []string      // slurm.args: further sbatch arguments, each --key=value
}

// cluster reads [backend] and [slurm], and [logs].
func (p *parser) cluster(c *Config) {
	if logs, ok := p.section("logs"); ok {
		if v, ok := logs["full_log"]; ok {
			c.FullLog = p.boolean("logs", "full_log", v)
		}
	}
	if backend, ok := p.section("backend"); ok {
		if v, ok := backend["default"]; ok {
			s, isString := v.(string)
			switch {
			case !isString:
				p.fail("backend", "default", "expected \"local\" or \"slurm\", found "+tomlType(v), nil)
			case s != "local" && s != "slurm":
				p.fail("backend", "default", "expected \"local\" or \"slurm\", found \""+s+"\"", nil)
			default:
				c.Backend = s
			}
		}
	}
	slurm, ok := p.section("slurm")
	if !ok {
		return
	}
	if v, ok := slurm["partition"]; ok {
		if s, isString := v.(string); isString {
			c.Slurm.Partition = s
		} else {
			p.fail("slurm", "partition", "expected a string, found "+tomlType(v), nil)
		}
	}
	if v, ok := slurm["time"]; ok {
		if raw, ok := p.str("slurm", "time", v); ok {
			d, err := duration.Parse(raw, time.Millisecond)
			if err != nil {
				p.fail("slurm", "time", err.Error(), err)
			}
			c.Slurm.Time = d
		}
	}
	if v, ok := slurm["cpus"]; ok {
		c.Slurm.CPUs = toInt(p.integer("slurm", "cpus", v, 1))
	}
	if v, ok := slurm["mem_mb"]; ok {
		c.Slurm.MemMB = p.integer("slurm", "mem_mb", v, 1)
	}
	if v, ok := slurm["args"]; ok {
		arr, isArray := v.([]any)
		if !isArray {
			p.fail("slurm", "args", "expected an array of strings, found "+tomlType(v), nil)
			return
		}
		for _, el := range arr {
			s, isString := el.(string)
			if !isString {
				p.fail("slurm", "args", "expected an array of strings, found "+tomlType(el)+" in it", nil)
				return
			}
			c.Slurm.Args = append(c.Slurm.Args, s)
		}
	}
}
