package io.baton.sidecar.listener;

import io.netty.channel.Channel;
import java.lang.reflect.Field;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Works around a defect of Netty 4.2's epoll transport (seen in 4.2.18 and 4.2.20): once a
 * half-closed socket has read its EOF with no write pending, its interest set becomes empty, and
 * {@code EpollIoHandler} removes the fd from epoll ({@code EPOLL_CTL_DEL}) but keeps the
 * registration's state {@code Added}. The next write that needs {@code EPOLLOUT} then does {@code
 * EPOLL_CTL_MOD} on an fd epoll no longer has, gets ENOENT, and Netty fails every byte still
 * buffered for that socket: a TCP client that half-closes loses the tail of the reply.
 *
 * <p>Before each write to such a socket, {@link #beforeWrite} puts an emptied registration back to
 * {@code Pending}, so that Netty adds the fd again ({@code EPOLL_CTL_ADD}) instead. This touches
 * two private fields by reflection; if a Netty upgrade renames them, it logs once and does nothing
 * (and {@code TcpRelayTest} shows whether the defect is still there).
 */
public final class EpollHalfCloseRepair {

  private static final Logger log = LoggerFactory.getLogger(EpollHalfCloseRepair.class);
  private static final Access ACCESS = Access.find();

  private EpollHalfCloseRepair() {}

  /** Call on the channel's event loop before writing to a channel whose input has shut down. */
  public static void beforeWrite(Channel channel) {
    if (ACCESS == null) {
      return;
    }
    try {
      Object ops = ACCESS.ops.get(channel);
      if (ops == null || ACCESS.opsValue.getInt(ops) != 0) {
        return;
      }
      Object registration = ACCESS.registration.get(channel);
      if (registration != null && ACCESS.state.get(registration) == ACCESS.added) {
        ACCESS.state.set(registration, ACCESS.pending);
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      log.debug("epoll half-close repair not applied to {}: {}", channel, e.toString());
    }
  }

  /** The private members involved, or null when this Netty version does not have them. */
  private record Access(
      Field ops, Field opsValue, Field registration, Field state, Object added, Object pending) {

    static Access find() {
      try {
        Class<?> channelClass = Class.forName("io.netty.channel.epoll.AbstractEpollChannel");
        Class<?> registrationClass =
            Class.forName("io.netty.channel.epoll.EpollIoHandler$DefaultEpollIoRegistration");
        Class<?> stateClass =
            Class.forName("io.netty.channel.epoll.EpollIoHandler$RegistrationState");
        Class<?> opsClass = Class.forName("io.netty.channel.epoll.EpollIoOps");
        Field ops = accessible(channelClass.getDeclaredField("ops"));
        Field registration = accessible(channelClass.getDeclaredField("registration"));
        Field state = accessible(registrationClass.getDeclaredField("state"));
        Field opsValue = accessible(opsClass.getDeclaredField("value"));
        Object added = enumConstant(stateClass, "Added");
        Object pending = enumConstant(stateClass, "Pending");
        return new Access(ops, opsValue, registration, state, added, pending);
      } catch (ReflectiveOperationException | RuntimeException e) {
        log.warn(
            "epoll half-close repair unavailable with this Netty version ({}); "
                + "a half-closed TCP client may lose the end of its reply",
            e.toString());
        return null;
      }
    }

    private static Field accessible(Field f) {
      f.setAccessible(true);
      return f;
    }

    private static Object enumConstant(Class<?> enumClass, String name) {
      for (Object c : enumClass.getEnumConstants()) {
        if (((Enum<?>) c).name().equals(name)) {
          return c;
        }
      }
      throw new IllegalStateException(enumClass.getName() + "." + name + " not found");
    }
  }
}
