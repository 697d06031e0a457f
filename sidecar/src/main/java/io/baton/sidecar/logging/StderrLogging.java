package io.baton.sidecar.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;
import org.slf4j.Logger;

/**
 * Logback's configuration, in code: every line to stderr as {@code 10:15:02.123 INFO [main]
 * SidecarServer pid=4242 - ...} (stdout carries only the serving line), Netty at WARN, the root at
 * {@code $BATON_LOG_LEVEL} (INFO by default).
 *
 * <p>In code rather than a logback.xml: parsing the XML (Joran, the JDK's SAX parser) took about
 * 50-100 ms of every generation's start-up, on the critical path of a handoff. Logback finds this
 * class through {@code META-INF/services/ch.qos.logback.classic.spi.Configurator}. An operator's
 * own file still wins: with {@code -Dlogback.configurationFile=FILE} this steps aside.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_HIGH_PRIORITY)
public final class StderrLogging extends ContextAwareBase implements Configurator {

  static final String PATTERN =
      "%d{HH:mm:ss.SSS} %-5level [%thread] %logger{0} pid=${PID:-?} - %msg%n";

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    if (System.getProperty("logback.configurationFile") != null) {
      return ExecutionStatus.INVOKE_NEXT_IF_ANY;
    }
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern(PATTERN.replace("${PID:-?}", System.getProperty("PID", "?")));
    encoder.start();
    ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
    stderr.setContext(context);
    stderr.setName("STDERR");
    stderr.setTarget("System.err");
    stderr.setEncoder(encoder);
    stderr.start();
    context.getLogger("io.netty").setLevel(Level.WARN);
    ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.toLevel(System.getenv("BATON_LOG_LEVEL"), Level.INFO));
    root.addAppender(stderr);
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }
}
