"""Plain data and rules of the inventory: items, movements, stock lines, locations, errors."""
