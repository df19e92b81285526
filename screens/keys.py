"""Every key in operator words, grouped by task: what help lists and the palette offers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Input

FIND = "Find and view"
STOCK = "Change stock"
ITEMS = "Items"
COUNTING = "Counting"
SCANNING = "Scanning"
GO = "Go to"
DIALOG = "This dialog"
SESSION = "Session and app"
MOVING = "Moving around"
TYPING = "Typing in a box"
OTHER = "More on this screen"

# The order help shows the groups in. Moving and typing keys are the widgets' own, the
# same everywhere: last, and left out of the palette.
GROUPS = (FIND, STOCK, ITEMS, COUNTING, SCANNING, DIALOG, OTHER, GO, SESSION, MOVING, TYPING)
NOT_COMMANDS = frozenset({MOVING, TYPING})

# action: (task, what it does). Screen-specific words (below) win over these.
WORDS: dict[str, tuple[str, str]] = {
    "focus_filter": (FIND, "Filter by SKU or name"),
    "pick_category": (FIND, "Show one category (or all)…"),
    "pick_location": (FIND, "Show one location (or all)…"),
    "sort": (FIND, "Sort by the next column"),
    "sort_reverse": (FIND, "Reverse the sort order"),
    "history": (FIND, "History of the item under the cursor"),
    "view('low')": (FIND, "Only low stock (again: all)"),
    "view('over')": (FIND, "Only over stock (again: all)"),
    "view('expiring')": (FIND, "Only stock expiring within 30 days (again: all)"),
    "act": (STOCK, "Adjust the first match…"),
    "toggle_maximize": (FIND, "Maximise this pane (again: back)"),
    "copy_sku": (ITEMS, "Copy the SKU to the clipboard"),
    "toggle_days": (FIND, "Detail pane: last 30 or 90 days"),
    "reload": (FIND, "Read everything again from the data file"),
    "dismiss_notice": (FIND, "Dismiss the refusal message"),
    "select_cursor": (FIND, "Open the row under the cursor"),
    "next_pane": (FIND, "Next pane"),
    "previous_pane": (FIND, "Previous pane"),
    "cycle_kind": (FIND, "Show movies, series or both"),
    "focus_search": (FIND, "Search titles"),
    "focus_results": (FIND, "Back to the results"),
    "leave": (FIND, "Back to the table, keeping the filter"),
    "clear_and_leave": (FIND, "Clear the filter"),
    "adjust(1)": (STOCK, "Add one unit"),
    "adjust(-1)": (STOCK, "Take one unit"),
    "adjust_dialog": (STOCK, "Adjust or count, with a reason…"),
    "move": (STOCK, "Move the item to another location…"),
    "transfer": (STOCK, "Transfer stock between locations…"),
    "undo": (STOCK, "Undo my last change"),
    "new": (ITEMS, "New item…"),
    "edit": (ITEMS, "Edit name, category, min or max…"),
    "delete": (ITEMS, "Delete the item…"),
    "toggle_selected": (ITEMS, "Select or unselect the item, and go down"),
    "extend_selection(1)": (ITEMS, "Select this item and the next"),
    "extend_selection(-1)": (ITEMS, "Select this item and the previous"),
    "select_all": (ITEMS, "Select every item shown"),
    "clear_selection": (ITEMS, "Clear the selection"),
    "import": (ITEMS, "Import items from a file…"),
    "scan": (GO, "Scan mode: receive, pick, count or move by scanner"),
    "reports": (GO, "Reports: summary, low and over stock"),
    "media": (GO, "Media search"),
    "stocktake": (GO, "Stocktake: count sessions"),
    "locations": (GO, "Locations: where stock is"),
    "recent": (GO, "Recent changes by everyone"),
    "close": (GO, "Back to the items"),
    "back": (GO, "Back"),
    "cancel": (DIALOG, "Cancel and close"),
    "answer(True)": (DIALOG, "Yes"),
    "answer(False)": (DIALOG, "No"),
    "run_import": (DIALOG, "Import now"),
    "help": (SESSION, "Help: every key of this screen"),
    "messages": (SESSION, "Message log: every message of this session"),
    "command_palette": (SESSION, "Command palette: every action by name"),
    "quit": (SESSION, "Quit ATLAS"),
    "help_quit": (SESSION, "Say how to quit"),
    "cursor(-1)": (MOVING, "Up one row"),
    "cursor(1)": (MOVING, "Down one row"),
    "page(-1)": (MOVING, "Up one page"),
    "page(1)": (MOVING, "Down one page"),
    "jump(0)": (MOVING, "First row"),
    "jump(-1)": (MOVING, "Last row"),
    "app.focus_next": (MOVING, "Next field"),
    "app.focus_previous": (MOVING, "Previous field"),
    "screen.copy_text": (MOVING, "Copy the selected text"),
}

# (screen, action): the words where one action means something else on one screen.
SCREEN_WORDS: dict[tuple[str, str], tuple[str, str]] = {
    ("ItemsScreen", "escape"): (FIND, "Dismiss the refusal message"),
    ("ReportsScreen", "select_cursor"): (FIND, "Go to the item under the cursor"),
    ("LocationsScreen", "select_cursor"): (FIND, "Open the location under the cursor"),
    ("LocationsScreen", "back"): (GO, "Back to the items"),
    ("LocationScreen", "select_cursor"): (FIND, "Go to the item under the cursor"),
    ("LocationScreen", "back"): (GO, "Back to every location"),
    ("StocktakeScreen", "start"): (COUNTING, "Start a new count session"),
    ("StocktakeScreen", "switch"): (COUNTING, "Switch to another open count"),
    ("StocktakeScreen", "apply"): (COUNTING, "Apply the count to the stock…"),
    ("StocktakeScreen", "scan"): (COUNTING, "Count by scanner (scan mode)"),
    ("StocktakeScreen", "cancel_session"): (COUNTING, "Cancel this count…"),
    ("StocktakeScreen", "leave"): (GO, "Back to the items"),
    ("ScanScreen", "choose('receive')"): (SCANNING, "Receive: each scan adds stock"),
    ("ScanScreen", "choose('pick')"): (SCANNING, "Pick: each scan takes stock"),
    ("ScanScreen", "choose('count')"): (SCANNING, "Count: each scan counts stock"),
    ("ScanScreen", "choose('move')"): (SCANNING, "Move: each scan moves an item"),
    ("ScanScreen", "choose('transfer')"): (SCANNING, "Transfer: each scan transfers stock"),
    ("ScanScreen", "next_action"): (SCANNING, "Next scan action"),
    ("ScanScreen", "undo"): (SCANNING, "Undo the last scan"),
    ("ScanScreen", "create"): (SCANNING, "Create the unknown item just scanned…"),
    ("ScanScreen", "leave"): (GO, "Leave scan mode"),
    ("HistoryDialog", "close"): (DIALOG, "Close the history"),
    ("HelpScreen", "close"): (DIALOG, "Close help"),
    ("RecentScreen", "close"): (GO, "Back to the items"),
    ("MediaDetail", "close"): (GO, "Back to the results"),
    ("MessageLogScreen", "close"): (DIALOG, "Close the message log"),
}

# What the help title calls each screen.
SCREEN_NAMES = {
    "ItemsScreen": "Items",
    "ReportsScreen": "Reports",
    "MediaScreen": "Media",
    "StocktakeScreen": "Stocktake",
    "ScanScreen": "Scan mode",
    "LocationsScreen": "Locations",
    "LocationScreen": "Location",
    "RecentScreen": "Recent changes",
}


@dataclass(frozen=True, slots=True)
class KeyHelp:
    """One action and every key bound to it, in operator words."""

    keys: tuple[str, ...]
    description: str
    group: str
    hidden: bool
    node: DOMNode
    action: str


def words(target: Screen[object], node: DOMNode, binding: Binding) -> tuple[str, str]:
    """(task group, what it does) for a binding of `node`, shown on `target`."""
    action = binding.action
    found = SCREEN_WORDS.get((type(target).__name__, action))
    if found is None and isinstance(target, ModalScreen) and node is target:
        found = (DIALOG, WORDS.get(action, (DIALOG, binding.description or action))[1])
    if found is None:
        found = WORDS.get(action)
    if found is not None:
        return found
    description = binding.description or action.replace("_", " ")
    if not _own(node, binding):
        return (TYPING if isinstance(node, Input) else MOVING), description
    return OTHER, description


def _own(node: DOMNode, binding: Binding) -> bool:
    """Whether ATLAS declared the binding (not Textual's own keys of its widgets)."""
    for cls in type(node).__mro__:
        declared = cls.__dict__.get("BINDINGS", ())
        if any(isinstance(b, Binding) and b.action == binding.action for b in declared):
            return not cls.__module__.startswith("textual.")
    return False


def chain(target: Screen[object]) -> list[DOMNode]:
    """Who gets a key first: the widgets around the screen's focus (innermost first), the
    screen, then the app (unless the screen is a dialog: the app's keys stop there)."""
    focused = target.focused
    around = [n for n in (focused.ancestors_with_self if focused else ()) if n is not target]
    widgets = [n for n in around if not isinstance(n, (App, Screen))]
    nodes: list[DOMNode] = [*widgets, target]
    if not isinstance(target, ModalScreen):
        nodes.append(target.app)
    return nodes


def key_help(target: Screen[object]) -> list[KeyHelp]:
    """Every key of `target`, of the widgets around its focus and of the app, by task.

    Keys bound to the same action of the same node are listed together; keys kept off
    the footer (show=False) are included: help is where they get found. A key a nearer
    node takes (the filter box's enter) is listed there only.
    """
    app = target.app
    rows: list[KeyHelp] = []
    taken: set[str] = set()
    for node in chain(target):
        grouped: dict[str, list[Binding]] = {}
        # The declared map, not `active_bindings`: that one drops every key a focused
        # Input would swallow, and help must still list those.
        for key, binding in node._bindings:
            if key not in taken:
                grouped.setdefault(binding.action, []).append(binding)
        for action, bindings in grouped.items():
            group, description = words(target, node, bindings[0])
            shown_first = sorted(bindings, key=lambda b: not b.show)  # `q` before `^q`
            keys = tuple(dict.fromkeys(app.get_key_display(b) for b in shown_first))
            hidden = not any(b.show for b in bindings)
            rows.append(KeyHelp(keys, description, group, hidden, node, action))
        taken.update(key for key, _binding in node._bindings)
    order = {group: n for n, group in enumerate(GROUPS)}
    return sorted(rows, key=lambda row: (order.get(row.group, len(GROUPS)), row.hidden))


def commands(target: Screen[object]) -> Iterator[KeyHelp]:
    """The keys the palette offers on `target`: every one but moving and typing."""
    seen: set[str] = set()
    for row in key_help(target):
        if row.action == "command_palette":
            continue
        if row.group not in NOT_COMMANDS and row.description not in seen:
            seen.add(row.description)
            yield row
