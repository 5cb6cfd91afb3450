package worker

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"easel/workerproto"
)

// trainOutput takes the output of a training's programs: it keeps it in
// the output log (uploaded with the logs), remembers the last lines for
// a failure's reason, and reads kohya's progress from it:
//
//	epoch 1/10                                         (train_network.py, between epochs)
//	steps:  10%|█         | 10/100 [00:05<00:45, 2.00it/s, avr_loss=0.123]   (tqdm, ends in \r)
type trainOutput struct {
	mu    sync.Mutex
	st    *jobState
	file  *os.File
	line  []byte
	last  []string
	epoch int
}

const keepLines = 12

var (
	epochLine = regexp.MustCompile(`^epoch (\d+)/(\d+)$`)
	stepsLine = regexp.MustCompile(`^steps:\s*\d+%\|[^|]*\|\s*(\d+)/(\d+)(.*)$`)
	avrLoss   = regexp.MustCompile(`avr_loss=([-+0-9.eE]+|nan|inf)`)
)

func newTrainOutput(st *jobState, logPath string) (*trainOutput, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return &trainOutput{st: st, file: f}, nil
}

// Write takes output as it comes; lines end in \n or \r (tqdm).
func (o *trainOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.file != nil {
		_, _ = o.file.Write(p)
	}
	for _, b := range p {
		if b == '\n' || b == '\r' {
			o.take(string(o.line))
			o.line = o.line[:0]
			continue
		}
		if len(o.line) < 4096 {
			o.line = append(o.line, b)
		}
	}
	return len(p), nil
}

// take reads one line.
func (o *trainOutput) take(line string) {
	line = strings.TrimSpace(line)
	if line == "" {
		return
	}
	if m := stepsLine.FindStringSubmatch(line); m != nil {
		step, _ := strconv.Atoi(m[1])
		steps, _ := strconv.Atoi(m[2])
		loss, hasLoss := -1.0, false
		if l := avrLoss.FindStringSubmatch(m[3]); l != nil {
			if v, err := strconv.ParseFloat(l[1], 64); err == nil {
				loss, hasLoss = v, true
			}
		}
		o.st.updateTraining(func(p *workerproto.TrainingProgress) {
			p.Status = workerproto.TrainingTraining
			p.Step, p.Steps = step, steps
			if o.epoch > 0 {
				p.Epoch = o.epoch
			}
			if hasLoss {
				p.Loss = loss
			}
		})
		o.remember(line, true)
		return
	}
	if m := epochLine.FindStringSubmatch(line); m != nil {
		epoch, _ := strconv.Atoi(m[1])
		epochs, _ := strconv.Atoi(m[2])
		o.epoch = epoch
		o.st.updateTraining(func(p *workerproto.TrainingProgress) {
			p.Status = workerproto.TrainingTraining
			p.Epoch, p.Epochs = epoch, epochs
		})
	}
	o.remember(line, false)
}

// remember keeps the last lines; a progress bar replaces the one before.
func (o *trainOutput) remember(line string, bar bool) {
	if bar && len(o.last) > 0 && strings.HasPrefix(o.last[len(o.last)-1], "steps:") {
		o.last[len(o.last)-1] = line
		return
	}
	o.last = append(o.last, line)
	if len(o.last) > keepLines {
		o.last = o.last[len(o.last)-keepLines:]
	}
}

// lastLines returns the last lines of output, for a failure's reason.
func (o *trainOutput) lastLines() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.last) == 0 {
		return "(no output)"
	}
	return strings.Join(o.last, " | ")
}

// close closes the output log (again is harmless).
func (o *trainOutput) close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.file != nil {
		_ = o.file.Close()
		o.file = nil
	}
}
