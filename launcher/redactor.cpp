#include "launcher/redactor.hpp"

#include <algorithm>
#include <utility>

namespace lockbox::launcher {

Redactor::Redactor(std::vector<Secret> secrets) {
  root_next_.fill(-1);
  nodes_.emplace_back();  // the root
  const char no_label = '\0';
  labels_.append(std::string_view(&no_label, 1));  // the root has no edge; keeps indices aligned
  for (Secret& s : secrets) {
    if (s.value.size() < kMinRedactedSize) continue;
    const auto index = static_cast<std::int32_t>(replacements_.size());
    replacements_.push_back("[REDACTED:" + s.name + "]");
    insert(s.value.reveal(), index);
    longest_ = std::max(longest_, s.value.size());
    s.value.clear();  // wiped now: from here on only labels_ holds the bytes
  }
  build_links();
}

Redactor::~Redactor() {
  wipe(root_next_.data(), sizeof(root_next_));
}

void Redactor::insert(std::string_view value, std::int32_t secret) {
  std::int32_t node = 0;
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    std::int32_t next = child(node, c);
    if (next < 0) {
      next = static_cast<std::int32_t>(nodes_.size());
      Node fresh;
      fresh.depth = nodes_[static_cast<std::size_t>(node)].depth + 1;
      nodes_.push_back(std::move(fresh));
      labels_.append(std::string_view(&ch, 1));
      if (node == 0) root_next_[c] = next;
      nodes_[static_cast<std::size_t>(node)].children.push_back(next);
    }
    node = next;
  }
  Node& end = nodes_[static_cast<std::size_t>(node)];
  if (end.secret < 0) end.secret = secret;  // equal values: the first secret names them
}

// Breadth-first, so every node on a fail chain (always shallower) is finished before it is used.
void Redactor::build_links() {
  Node& root = nodes_[0];
  root.fail = 0;
  root.out_link = -1;
  root.live_depth = 0;
  std::vector<std::int32_t> order(root.children.begin(), root.children.end());
  for (std::size_t qi = 0; qi < order.size(); ++qi) {
    Node& v = nodes_[static_cast<std::size_t>(order[qi])];
    const Node& f = nodes_[static_cast<std::size_t>(v.fail)];
    v.out_link = f.secret >= 0 ? v.fail : f.out_link;
    // A node without children cannot be extended, so the oldest byte a match in progress may
    // start at is given by the deepest extendable suffix: this bounds what is held back.
    v.live_depth = v.children.empty() ? f.live_depth : v.depth;
    for (const std::int32_t u : v.children) {
      const auto c = static_cast<unsigned char>(labels_.reveal()[static_cast<std::size_t>(u)]);
      nodes_[static_cast<std::size_t>(u)].fail = step(v.fail, c);
      order.push_back(u);
    }
  }
}

std::int32_t Redactor::child(std::int32_t node, unsigned char c) const {
  if (node == 0) return root_next_[c];
  const std::string_view labels = labels_.reveal();
  for (const std::int32_t id : nodes_[static_cast<std::size_t>(node)].children) {
    if (static_cast<unsigned char>(labels[static_cast<std::size_t>(id)]) == c) return id;
  }
  return -1;
}

std::int32_t Redactor::step(std::int32_t node, unsigned char c) const {
  for (;;) {
    const std::int32_t next = child(node, c);
    if (next >= 0) return next;
    if (node == 0) return 0;
    node = nodes_[static_cast<std::size_t>(node)].fail;
  }
}

void Redactor::scan(std::size_t from) {
  const std::string_view bytes = pending_.reveal();
  for (std::size_t i = from; i < bytes.size(); ++i) {
    state_ = step(state_, static_cast<unsigned char>(bytes[i]));
    const Node& here = nodes_[static_cast<std::size_t>(state_)];
    std::int32_t t = here.secret >= 0 ? state_ : here.out_link;
    // Longest first; for one start position a later end is always longer, so overwriting keeps
    // the longest value starting there.
    for (; t >= 0; t = nodes_[static_cast<std::size_t>(t)].out_link) {
      const Node& term = nodes_[static_cast<std::size_t>(t)];
      const std::size_t length = term.depth;
      if (length > i + 1) continue;  // starts in bytes already emitted or replaced
      matches_[i + 1 - length] = Match{term.depth, term.secret};
    }
  }
}

void Redactor::emit(std::size_t horizon, std::string& out) {
  const std::string_view bytes = pending_.reveal();
  std::size_t pos = 0;
  while (pos < horizon) {
    const Match m = matches_[pos];
    if (m.length > 0) {
      out += replacements_[static_cast<std::size_t>(m.secret)];
      pos += m.length;  // may pass the horizon: the match itself is complete
      continue;
    }
    std::size_t end = pos + 1;
    while (end < horizon && matches_[end].length == 0) ++end;
    out.append(bytes.substr(pos, end - pos));
    pos = end;
  }
  if (pos == 0) return;
  // A fresh exact-size copy; the move-assignment wipes the old buffer.
  pending_ = SecretValue(bytes.substr(pos));
  matches_.erase(matches_.begin(), matches_.begin() + static_cast<std::ptrdiff_t>(pos));
}

void Redactor::feed(std::string_view in, std::string& out) {
  if (longest_ == 0) {
    out.append(in);
    return;
  }
  const std::size_t from = pending_.size();
  pending_.append(in);
  matches_.resize(pending_.size());
  scan(from);
  const std::size_t live = nodes_[static_cast<std::size_t>(state_)].live_depth;
  // After a replacement the automaton may still be inside bytes already consumed, so `live`
  // can exceed what is held back; then nothing more is decidable yet.
  emit(pending_.size() > live ? pending_.size() - live : 0, out);
}

void Redactor::finish(std::string& out) {
  emit(pending_.size(), out);
  pending_.clear();
  matches_.clear();
  state_ = 0;
}

}  // namespace lockbox::launcher
