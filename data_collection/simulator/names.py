"""Fixed vocabularies of the simulated world: real countries, city-name syllables, cuisines and dishes.

Lists are ordered and never shuffled in place, so a seed always picks the same names.
"""

from __future__ import annotations

from dataclasses import dataclass

#: ISO 3166-1 alpha-2 code and English short name; the first N are used for a world of N countries.
COUNTRIES: tuple[tuple[str, str], ...] = (
    ("ES", "Spain"), ("PT", "Portugal"), ("IT", "Italy"), ("FR", "France"), ("DE", "Germany"),
    ("GB", "United Kingdom"), ("IE", "Ireland"), ("NL", "Netherlands"), ("BE", "Belgium"), ("AT", "Austria"),
    ("CH", "Switzerland"), ("PL", "Poland"), ("CZ", "Czechia"), ("SK", "Slovakia"), ("HU", "Hungary"),
    ("RO", "Romania"), ("BG", "Bulgaria"), ("GR", "Greece"), ("HR", "Croatia"), ("SI", "Slovenia"),
    ("RS", "Serbia"), ("BA", "Bosnia and Herzegovina"), ("ME", "Montenegro"), ("AL", "Albania"),
    ("MK", "North Macedonia"), ("UA", "Ukraine"), ("MD", "Moldova"), ("GE", "Georgia"), ("AM", "Armenia"),
    ("TR", "Turkey"), ("CY", "Cyprus"), ("MT", "Malta"), ("DK", "Denmark"), ("SE", "Sweden"), ("NO", "Norway"),
    ("FI", "Finland"), ("EE", "Estonia"), ("LV", "Latvia"), ("LT", "Lithuania"), ("IS", "Iceland"),
    ("LU", "Luxembourg"), ("MA", "Morocco"), ("TN", "Tunisia"), ("EG", "Egypt"), ("KE", "Kenya"),
    ("NG", "Nigeria"), ("GH", "Ghana"), ("CI", "Cote d'Ivoire"), ("SN", "Senegal"), ("ZA", "South Africa"),
    ("UG", "Uganda"), ("TZ", "Tanzania"), ("AE", "United Arab Emirates"), ("SA", "Saudi Arabia"),
    ("QA", "Qatar"), ("KW", "Kuwait"), ("BH", "Bahrain"), ("OM", "Oman"), ("JO", "Jordan"), ("KZ", "Kazakhstan"),
    ("AR", "Argentina"), ("BR", "Brazil"), ("CL", "Chile"), ("CO", "Colombia"), ("PE", "Peru"), ("MX", "Mexico"),
    ("UY", "Uruguay"), ("EC", "Ecuador"), ("CR", "Costa Rica"), ("PA", "Panama"), ("GT", "Guatemala"),
    ("DO", "Dominican Republic"), ("PR", "Puerto Rico"),
)  # fmt: skip

CITY_PREFIXES: tuple[str, ...] = (
    "Al", "Bel", "Cas", "Dor", "El", "Fal", "Gran", "Hal", "Is", "Jun", "Kal", "Lor", "Mar", "Nor", "Or", "Pal",
    "Quin", "Ros", "San", "Tor", "Ul", "Val", "Wes", "Yar", "Zan", "Bra", "Cor", "Del", "Fen", "Gal", "Lin", "Mon",
)  # fmt: skip
CITY_MIDDLES: tuple[str, ...] = ("", "a", "e", "i", "o", "an", "er", "in", "on", "ar")
CITY_SUFFIXES: tuple[str, ...] = (
    "ford", "ville", "burg", "haven", "mont", "ria", "dale", "port", "stad", "polis", "field", "gate", "mar",
    "lia", "nica", "bridge", "cester", "holm", "ona", "ora",
)  # fmt: skip

RESTAURANT_OPENERS: tuple[str, ...] = (
    "Golden", "Little", "Blue", "Happy", "Royal", "Urban", "Old Town", "Corner", "Lucky", "Green", "Red", "Sunny",
    "Casa", "Mama's", "Uncle Joe's", "The Hungry", "Silver", "Market", "Harbour", "Hilltop",
)  # fmt: skip


@dataclass(frozen=True)
class Cuisine:
    name: str
    base_prep_minutes: float  # median kitchen time of a one-item order before the restaurant's own effect
    price_level: float  # median item price
    nouns: tuple[str, ...]  # second word of restaurant names
    dishes: tuple[str, ...]


CUISINES: tuple[Cuisine, ...] = (
    Cuisine("pizza", 14.0, 11.0, ("Pizzeria", "Slice", "Forno"),
            ("Margherita", "Marinara", "Diavola", "Quattro Formaggi", "Capricciosa", "Prosciutto", "Funghi",
             "Calzone", "Garlic Bread", "Tiramisu", "Caprese Salad", "Hawaiian", "Vegetariana", "Bufala",
             "Nutella Pizza")),
    Cuisine("burgers", 11.0, 10.0, ("Burger", "Grill", "Diner"),
            ("Classic Burger", "Cheeseburger", "Bacon Burger", "Veggie Burger", "Chicken Burger", "Fries",
             "Sweet Potato Fries", "Onion Rings", "Milkshake", "Hot Dog", "Nuggets", "Coleslaw", "Double Smash",
             "BBQ Burger", "Brownie")),
    Cuisine("sushi", 18.0, 14.0, ("Sushi", "Maki Bar", "Izakaya"),
            ("Salmon Nigiri", "Tuna Nigiri", "California Roll", "Spicy Tuna Roll", "Dragon Roll", "Miso Soup",
             "Edamame", "Gyoza", "Sashimi Mix", "Poke Bowl", "Tempura Roll", "Wakame", "Chirashi", "Uramaki",
             "Mochi")),
    Cuisine("chinese", 13.0, 9.0, ("Wok", "Dragon", "Garden"),
            ("Kung Pao Chicken", "Sweet and Sour Pork", "Fried Rice", "Chow Mein", "Spring Rolls", "Dumplings",
             "Mapo Tofu", "Peking Duck", "Hot and Sour Soup", "Beef Broccoli", "Char Siu", "Bao", "Dan Dan Noodles",
             "Egg Fried Rice", "Sesame Balls")),
    Cuisine("indian", 17.0, 12.0, ("Tandoor", "Curry House", "Spice"),
            ("Chicken Tikka Masala", "Butter Chicken", "Lamb Rogan Josh", "Palak Paneer", "Chana Masala",
             "Biryani", "Garlic Naan", "Samosa", "Dal Makhani", "Korma", "Vindaloo", "Pakora", "Raita",
             "Mango Lassi", "Onion Bhaji")),
    Cuisine("mexican", 12.0, 10.0, ("Taqueria", "Cantina", "Burrito"),
            ("Beef Burrito", "Chicken Tacos", "Al Pastor Tacos", "Quesadilla", "Nachos", "Guacamole", "Enchiladas",
             "Fajitas", "Churros", "Elote", "Burrito Bowl", "Tostada", "Chili con Carne", "Horchata", "Salsa Trio")),
    Cuisine("thai", 15.0, 11.0, ("Thai", "Bangkok Kitchen", "Orchid"),
            ("Pad Thai", "Green Curry", "Red Curry", "Massaman Curry", "Tom Yum", "Tom Kha", "Som Tam",
             "Pad See Ew", "Larb", "Satay", "Spring Rolls", "Mango Sticky Rice", "Basil Chicken", "Khao Pad",
             "Panang Curry")),
    Cuisine("kebab", 9.0, 8.0, ("Kebab", "Grill House", "Doner"),
            ("Doner Kebab", "Shawarma Wrap", "Falafel Wrap", "Lahmacun", "Adana Kebab", "Shish Kebab",
             "Hummus", "Baklava", "Kebab Plate", "Chicken Wings", "Pita", "Tabbouleh", "Ayran", "Borek",
             "Kofta")),
    Cuisine("salads", 8.0, 9.0, ("Greens", "Bowl Co", "Salad Bar"),
            ("Caesar Salad", "Greek Salad", "Quinoa Bowl", "Buddha Bowl", "Chicken Salad", "Tuna Salad",
             "Cobb Salad", "Avocado Toast", "Smoothie", "Fruit Cup", "Soup of the Day", "Wrap", "Granola",
             "Lentil Salad", "Cold Brew")),
    Cuisine("bakery", 6.0, 5.0, ("Bakery", "Patisserie", "Cafe"),
            ("Croissant", "Pain au Chocolat", "Baguette Sandwich", "Cinnamon Roll", "Muffin", "Cheesecake",
             "Quiche", "Cappuccino", "Latte", "Bagel", "Apple Pie", "Eclair", "Macarons", "Scone", "Brioche")),
    Cuisine("korean", 16.0, 12.0, ("Seoul Kitchen", "BBQ", "K-Food"),
            ("Bibimbap", "Bulgogi", "Korean Fried Chicken", "Kimchi Jjigae", "Tteokbokki", "Japchae",
             "Kimbap", "Mandu", "Galbi", "Sundubu", "Kimchi", "Pajeon", "Bingsu", "Ramyeon", "Dakgalbi")),
)  # fmt: skip
