import sys, re, collections, subprocess
# usage: jfrtop.py FILE.jfr [THREAD] [TOP] [FRAME]: with FRAME, only the samples whose stack holds a frame containing that text
path = sys.argv[1]; thread = sys.argv[2] if len(sys.argv) > 2 else "switchboard-gateway"
out = subprocess.run(["jfr", "print", "--events", "jdk.ExecutionSample", "--stack-depth", "64", path], capture_output=True, text=True).stdout
events = out.split("jdk.ExecutionSample")
top = collections.Counter(); incl = collections.Counter(); n = 0
for e in events:
    m = re.search(r'sampledThread = "([^"]*)"', e)
    if not m or m.group(1) != thread: continue
    frames = re.findall(r'^\s+([\w.$<>]+\(.*?\))\s+line:', e, re.M)
    if not frames: continue
    if len(sys.argv) > 4 and not any(sys.argv[4] in f for f in frames): continue
    n += 1
    top[re.sub(r'\(.*', '', frames[0])] += 1
    seen = set()
    for f in frames:
        f = re.sub(r'\(.*', '', f)
        if f not in seen: seen.add(f); incl[f] += 1
print("samples in %s: %d" % (thread, n))
print("-- top (self) frames")
for f, c in top.most_common(int(sys.argv[3]) if len(sys.argv) > 3 else 25): print("%5.1f%%  %s" % (100.0 * c / n, f))
print("-- inclusive")
for f, c in incl.most_common(45): print("%5.1f%%  %s" % (100.0 * c / n, f))
