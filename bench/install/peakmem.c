// peakmem: runs a command and reports its wall time, CPU time and memory peaks.
//
//   peakmem [-i MICROSECONDS] [-a PID]... -- COMMAND [ARGS...]
//
// Prints one line: wall_s= user_s= sys_s= hwm_kib= peak_rss_kib= peak_anon_kib= samples=
//   user_s, sys_s  getrusage of the command as wait4() returns it (it includes descendants the
//                  command waited for), plus the utime/stime that each -a PID (a daemon doing the
//                  work for a client, e.g. `rauc service`) spent while the command ran
//   hwm_kib        the largest VmHWM (the kernel's exact peak RSS of one process): ru_maxrss of
//                  the command's tree, and VmHWM of each -a PID read after the command ended
//   peak_rss_kib   the largest sum of VmRSS over the sampled processes at one instant (a
//                  pipeline's processes add up), never less than hwm_kib
//   peak_anon_kib  the largest sum of RssAnon (heap, stacks, anonymous mappings: what the
//                  process allocated, without the shared libraries' file pages) at one instant
// Sampling reads /proc/PID/status of the command, its descendants (through
// /proc/PID/task/TID/children) and each -a PID, every -i microseconds (default 500). A peak
// shorter than the interval can be missed; hwm_kib cannot.
// Written in C so that sampling at this rate costs the measured programs almost nothing.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PIDS 256

static long status_kib(pid_t pid, const char* key) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  FILE* f = fopen(path, "r");
  if (!f) return -1;
  char line[256];
  long value = -1;
  size_t n = strlen(key);
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, key, n) == 0 && line[n] == ':') {
      value = strtol(line + n + 1, NULL, 10);
      break;
    }
  }
  fclose(f);
  return value;
}

static void rss_anon(pid_t pid, long* rss, long* anon) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  *rss = *anon = 0;
  FILE* f = fopen(path, "r");
  if (!f) return;
  char line[256];
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "VmRSS:", 6) == 0) *rss = strtol(line + 6, NULL, 10);
    else if (strncmp(line, "RssAnon:", 8) == 0) {
      *anon = strtol(line + 8, NULL, 10);
      break;  // RssAnon follows VmRSS
    }
  }
  fclose(f);
}

// Appends the descendants of pid (all threads' children) to list.
static void descendants(pid_t pid, pid_t* list, int* count) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
  DIR* tasks = opendir(path);
  if (!tasks) return;
  struct dirent* t;
  while ((t = readdir(tasks)) != NULL) {
    if (t->d_name[0] == '.') continue;
    char cpath[320];
    snprintf(cpath, sizeof cpath, "/proc/%d/task/%s/children", (int)pid, t->d_name);
    FILE* f = fopen(cpath, "r");
    if (!f) continue;
    int child;
    while (fscanf(f, "%d", &child) == 1 && *count < MAX_PIDS) {
      list[(*count)++] = child;
      descendants(child, list, count);
    }
    fclose(f);
  }
  closedir(tasks);
}

static void cpu_times(pid_t pid, double* user, double* sys) {  // utime, stime in seconds
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  *user = *sys = 0;
  FILE* f = fopen(path, "r");
  if (!f) return;
  char buf[1024];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char* p = strrchr(buf, ')');
  if (!p) return;
  unsigned long utime = 0, stime = 0;
  long cutime = 0, cstime = 0;
  // Fields after ")": state(3) ... utime(14) stime(15) cutime(16) cstime(17); the children's
  // times count once the daemon has reaped them (e.g. a mount helper).
  if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %ld %ld", &utime,
             &stime, &cutime, &cstime) != 4)
    return;
  *user = (double)(utime + (unsigned long)cutime) / (double)sysconf(_SC_CLK_TCK);
  *sys = (double)(stime + (unsigned long)cstime) / (double)sysconf(_SC_CLK_TCK);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
  long interval_us = 500;
  pid_t attached[16];
  int nattached = 0;
  int i = 1;
  for (; i < argc; ++i) {
    if (strcmp(argv[i], "--") == 0) { ++i; break; }
    if (strcmp(argv[i], "-i") == 0 && i + 1 < argc) interval_us = atol(argv[++i]);
    else if (strcmp(argv[i], "-a") == 0 && i + 1 < argc && nattached < 16)
      attached[nattached++] = (pid_t)atoi(argv[++i]);
    else { fprintf(stderr, "usage: peakmem [-i us] [-a pid]... -- command...\n"); return 2; }
  }
  if (i >= argc) { fprintf(stderr, "peakmem: no command\n"); return 2; }

  double user0[16], sys0[16];
  for (int a = 0; a < nattached; ++a) cpu_times(attached[a], &user0[a], &sys0[a]);
  double start = now();
  pid_t child = fork();
  if (child < 0) { perror("fork"); return 2; }
  if (child == 0) {
    execvp(argv[i], argv + i);
    perror(argv[i]);
    _exit(127);
  }
  long peak_rss = 0, peak_anon = 0, samples = 0;
  int status = 0;
  struct rusage ru;
  for (;;) {
    pid_t list[MAX_PIDS];
    int count = 0;
    list[count++] = child;
    descendants(child, list, &count);
    for (int a = 0; a < nattached && count < MAX_PIDS; ++a) {
      list[count++] = attached[a];
      descendants(attached[a], list, &count);
    }
    long rss = 0, anon = 0;
    for (int k = 0; k < count; ++k) {
      long r, an;
      rss_anon(list[k], &r, &an);
      rss += r;
      anon += an;
    }
    if (rss > peak_rss) peak_rss = rss;
    if (anon > peak_anon) peak_anon = anon;
    ++samples;
    pid_t done = wait4(child, &status, WNOHANG, &ru);
    if (done == child) break;
    if (done < 0 && errno != EINTR) { perror("wait4"); return 2; }
    usleep((useconds_t)interval_us);
  }
  double wall = now() - start;
  double user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
  double sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
  long hwm = ru.ru_maxrss;
  for (int a = 0; a < nattached; ++a) {
    double u, s;
    cpu_times(attached[a], &u, &s);
    user += u - user0[a];
    sys += s - sys0[a];
    long h = status_kib(attached[a], "VmHWM");
    if (h > hwm) hwm = h;
  }
  if (hwm > peak_rss) peak_rss = hwm;
  printf("wall_s=%.3f user_s=%.3f sys_s=%.3f hwm_kib=%ld peak_rss_kib=%ld peak_anon_kib=%ld samples=%ld\n",
         wall, user, sys, hwm, peak_rss, peak_anon, samples);
  fflush(stdout);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}
