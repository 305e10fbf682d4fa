//! A network namespace of our own with only a loopback in it. The host reaches into it from
//! short-lived threads that join it (a socket keeps the namespace it was made in), and the
//! processes it starts join it between fork and exec.

use super::BrowserUser;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, RawFd};

pub struct PrivateNetwork {
    /// Keeps the namespace alive; joined with setns(2).
    namespace: File,
}

impl PrivateNetwork {
    /// A new namespace with its loopback up. Made on a throwaway thread: unshare(2) moves only
    /// the calling thread, and no thread of the host's own should leave the host's network.
    pub fn create() -> io::Result<PrivateNetwork> {
        let namespace = std::thread::spawn(|| -> io::Result<File> {
            // SAFETY: unshare only changes this thread's namespaces.
            if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
                return Err(io::Error::last_os_error());
            }
            bring_loopback_up()?;
            File::open("/proc/thread-self/ns/net")
        })
        .join()
        .map_err(|_| io::Error::other("the namespace thread panicked"))??;
        Ok(PrivateNetwork { namespace })
    }

    /// Run `f` on a fresh thread inside the namespace (the caller's thread never moves).
    pub fn run<T: Send + 'static>(&'static self, f: impl FnOnce() -> io::Result<T> + Send + 'static) -> io::Result<T> {
        let fd = self.namespace.as_raw_fd();
        std::thread::spawn(move || {
            join_namespace(fd)?;
            f()
        })
        .join()
        .map_err(|_| io::Error::other("a thread inside the private network panicked"))?
    }

    /// Whether a process runs in this namespace (compares /proc/<pid>/ns/net with ours).
    pub fn holds_process(&self, pid: u32) -> bool {
        use std::os::unix::fs::MetadataExt;
        let (Ok(ours), Ok(theirs)) = (self.namespace.metadata(), std::fs::metadata(format!("/proc/{pid}/ns/net"))) else {
            return false;
        };
        (ours.dev(), ours.ino()) == (theirs.dev(), theirs.ino())
    }

    /// Have the child of `command` join this namespace and drop to `user` before it execs.
    pub(super) fn enter_on_exec(&'static self, command: &mut tokio::process::Command, user: &BrowserUser) {
        let (fd, user) = (self.namespace.as_raw_fd(), *user);
        // The namespace is joined first (that needs root), then every privilege is dropped.
        // SAFETY: only async-signal-safe system calls run between fork and exec.
        unsafe {
            command.pre_exec(move || {
                join_namespace(fd)?;
                user.assume()
            });
        }
    }
}

fn join_namespace(fd: RawFd) -> io::Result<()> {
    // SAFETY: fd is the namespace file this struct keeps open; setns moves only this thread.
    check(unsafe { libc::setns(fd, libc::CLONE_NEWNET) })
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// A new namespace's `lo` starts down: set IFF_UP on it (SIOCGIFFLAGS, then SIOCSIFFLAGS).
fn bring_loopback_up() -> io::Result<()> {
    let socket = std::net::UdpSocket::bind(("0.0.0.0", 0))?;
    // SAFETY: ifreq is plain data; zeroed is a valid value for it.
    let mut request: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in request.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    // SAFETY: the ioctls read and write only `request`, a properly sized ifreq.
    unsafe {
        check(libc::ioctl(socket.as_raw_fd(), libc::SIOCGIFFLAGS, &mut request))?;
        request.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
        check(libc::ioctl(socket.as_raw_fd(), libc::SIOCSIFFLAGS, &request))
    }
}
