/**
 * A Slack channel as the descriptors name it (`bank.io/slack-channel: "#squad-ledger"`) made a link.
 * Slack's app_redirect opens the channel in the reader's own workspace (the app if installed, else the
 * browser), so the portal needs no workspace address. Undefined for anything that is not a channel name
 * (Slack's rule: lowercase letters, digits, '-' and '_', at most 80), so descriptor text never becomes a URL.
 */
export function slackHref(channel: string | null | undefined): string | undefined {
  const name = channel?.trim().replace(/^#/, '');
  if (!name || !/^[a-z0-9][a-z0-9_-]{0,79}$/.test(name)) return undefined;
  return `https://slack.com/app_redirect?channel=${name}`;
}
