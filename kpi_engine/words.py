"""The words of /kpi questions that are not KPI names or entities, in English and Thai.

Each list says what a word does in a question; kpi_engine.grammar turns them into one vocabulary.
Chat words (please, ครับ, หน่อย) carry nothing and are skipped, but a word on none of these lists is
never skipped: it makes the question a question back, so "revenue acme corp" is not silently read
as "revenue".
"""

from __future__ import annotations

# ---------------------------------------------------------------- chat words (skipped)

FILLER_EN = (
    "the", "a", "an", "for", "in", "of", "on", "at", "to", "from", "with", "during", "over", "about",
    "within", "into", "across the", "show", "shows", "showing", "me", "us", "our", "ours", "we", "what",
    "what's", "whats", "what is", "what are", "what were", "what was", "how", "how's", "hows", "how is",
    "how are", "how was", "how did", "how does", "how do", "is", "was", "are", "were", "be", "been",
    "did", "do", "does", "done", "doing", "give", "gimme", "tell", "get", "got", "see", "pull",
    "bring", "fetch", "display", "check", "lookup", "look up", "find", "please", "pls", "plz", "thanks",
    "thank you", "thx", "ty", "bot", "kpibot", "@kpibot", "@bot", "can", "could", "would", "will", "you",
    "u", "i", "i'd", "i'm", "im", "like", "want", "wanna", "need", "know", "looking", "look", "looks",
    "numbers", "number", "figure", "figures", "stats", "stat", "data", "report", "total", "totals",
    "overall", "so far", "far", "now", "currently", "right now", "just", "only", "quick", "real quick",
    "asap", "ok", "okay", "then", "and", "it", "its", "it's", "this", "that", "these", "those", "there",
    "here", "sum", "avg", "average", "mean", "median", "percentage", "percent", "pct", "%", "no.",
    "count", "number of", "how many", "how much", "many", "much", "amount", "value", "level", "kpi",
    "metric", "metrics", "result", "results", "performing", "performance", "perform", "going", "been",
    "up", "as", "as of", "in terms of", "whole", "company", "the company", "company wide",
    "company-wide", "all up", "guys", "folks", "yo", "hey", "hiya",
    "'s", "s", "'d", "their", "he", "she", "her", "his", "him", "hers", "them", "he's", "she's", "open with",
    "to open with", "in an hour", "after lunch", "in a bit", "later today", "keeps telling me", "keeps saying",
    "says", "flat out", "rn", "tbh", "ngl", "lmk", "fyi", "eod", "eow", "by eod", "by eow", "wdyt", "imo", "idk",
    "lol", "cc", "lookin", "how'd", "how’d", "logs", "log", "through", "until they're", "until they are", "sent", "worth", "moves", "gets", "gives", "gives us", "am i close", "like am i close", "am i near", "um", "uh", "umm", "erm", "so yeah", "yeah", "like", "i mean", "blended", "fully loaded", "calendar", "cfo question", "ceo question", "vp sales here",
    "presenting", "i'm presenting", "break down", "break out", "dragging", "before coaching", "coaching", "book", "sit down with", "push him", "push her", "held", "or not", "already or not", "yet or not", "already",
    "following up on", "following up", "follow up on", "follow-up on", "saw", "seen",
    "says", "said", "showed", "shows only", "only shows", "was down", "were down", "is down",
    "was up", "were up", "is up", "went down", "went up", "down", "dropped", "fell", "declined", "moved", "is low", "was low", "are low", "were low", "looks low",
    "is high", "was high", "looks high", "who'd", "who’d", "that'd", "w/", "rate", "rated", "pass", "passes", "go by", "goes by", "on average", "on avg", "did we", "have we", "we've", "have", "has", "had", "get me", "let me know", "let's see",
    "lemme", "any", "some", "latest", "current", "actual", "actuals", "real",
    "by the way", "btw", "so", "well", "um", "uh", "hmm", "again", "also", "too",
    "sit", "sits", "sitting", "sat", "stay", "stays", "take", "takes", "took", "usually",
    "typically", "on average", "generally", "long", "by",
    "nice", "cool", "great", "good", "bad", "wow", "omg", "lol", "haha", "hahaha", "555", "5555", "55555",
    "came", "come", "came in", "come in", "coming in", "brought", "bring", "bring in", "brought in", "generated",
    "generate", "made", "make", "received", "landed", "achieved", "produce", "produced", "the month of",
    "month of", "the period of", "like", "looking like", "look like", "tracking", "track", "trending",
    "pacing", "doing on", "shaping up", "stand", "stack up",
    "quick q", "quick question", "question", "qq", "to date", "until now", "till now", "up to now",
    "up till now", "up until now", "quick one", "one", "someone", "anyone", "somebody", "if", "but",
    "when", "marked", "split out", "broken out", "hold", "held", "inbound", "how many time", "send", "send me", "pull that", "pull up", "can u pull that", "share", "kindly", "single", "the single", "provide", "please provide", "would you kindly", "share the", "share me", "share us", "share with me", "share our", "share my", "post", "wants to know",
    "want to know", "wants", "wanted", "asked", "asking", "asks", "ask", "needs", "needed", "for me", "urgent",
    "not urgent", "no rush", "when you get a sec", "when you get a chance", "when u get a sec", "a sec", "sec",
    "ready", "together", "putting together", "prepping", "preparing", "prep", "working on", "update", "recap",
    "logged", "log", "recorded", "rated", "rating", "ratings",
    # how it is going ("where are we on quota", "is retention getting better", "back in august")
    "where", "where's", "wheres", "where are we", "where are we on", "where are we at", "where we at",
    "where do we stand", "where do we stand on", "stand on", "getting", "getting better", "getting worse",
    "better", "worse", "improving", "improved", "declining", "back in", "way back in",
    # reps as who did it, not a breakdown: "how many calls did reps make", "have our reps logged"
    *(f"{verb} {who}reps" for verb in ("did", "do", "have", "are", "were") for who in ("", "the ", "our ", "all ")),
    "our reps", "all our reps", "ones",
    "taking", "gave", "gave us", "give us", "typical", "out of", "ended up", "end up", "ends up",
    # linking words around what is measured ("before I get them qualified", "accounts that bought in
    # October", "spend divided by …"); not "they" (whose figure?) nor "became" (became what?)
    "get them", "before i get them", "before we get them", "before they get", "before getting", "before they're",
    "before they are", "divided by", "that bought", "who bought", "that purchased", "who purchased", "that ordered",
    "who ordered", "among", "among the", "amongst", "brought home", "bring home", "delivered", "were given",
    "we were given", "how near", "match", "matched", "matches", "entered", "entered the funnel", "into the funnel",
    "the funnel", "funnel", "before it moves to the next", "moves to the next stage", "moves to the next",
    "everyone who", "how often", "signed with us", "have signed", "began", "when this quarter began",
    "really", "bought something", "something", "fresh", "incoming", "all spending included", "everything included", "all in", "all-in",
    # someone new to the bot says so ("first week using this", "im new here"), or apologises first
    "first week using this", "first week using", "first day with the bot", "first day using this", "my first week",
    "my first day", "i'm new here", "im new here", "i'm new", "im new", "new here", "new to this",
    "new to this bot", "question from a new rep", "from a new rep", "a new rep", "sorry", "sorry if this is a dumb",
    "dumb question", "stupid question", "silly question", "how do i see", "how can i see", "not sure",
    "i'm not sure", "im not sure", "not sure if", "not sure what", "not sure how", "what the metrics are called",
    "if this is the right place to ask", "the right place to ask", "in advance", "thanks in advance", "happened",
    "what actually happened", "how close", "come to", "comes to", "comes from", "come from", "coming from",
    "that comes from", "that came from", "reach", "reached", "new", "called",
    "krub", "krab", "kub", "ka", "kha", "na ka", "na krub", "naka",
    # why and when someone asks at month and quarter end ("finance here, closing the books")
    "faster", "slower", "quicker", "sorry for the late ping", "late ping", "ping", "closing the books",
    "we're closing the books", "were closing the books", "close the books", "closing the month", "reconciling",
    "reconcile", "for the audit", "need it for the audit", "the audit", "audit", "invoices", "the invoices",
    "finance here", "month end", "month-end", "quarter end", "quarter-end",
    "moving through", "move through", "moves through", "flowing through", "flow through", "flows through",
    "remind me", "remind me what", "actually", "using", "use", "used", "hit", "hitting", "going round the table",
    "round the table", "going around the table", "around the table", "before moving on", "moving on",
    # a proportion: read with the topic words as the KPI that is a ratio ("what share of deals do we win")
    "share of", "what share of", "the share of", "% of", "percent of", "percentage of", "what percentage of",
    "what percent of", "proportion of", "what proportion of", "fraction of", "what fraction of", "what fraction",
    "what share", "what percentage", "what percent", "what proportion",
)
# Why someone asks, said around the question ("before standup", "for the QBR deck", "my boss wants to
# know"): each noun with the words that lead into it is one chat phrase, so "my" in "my boss wants" or
# "before" in "before my meeting" is not read as the asker's own figure or a comparison. Nouns that are
# also what people count (meetings and calls are activity types) are chat only after such words.
CHAT_NOUNS = ("standup", "stand-up", "deck", "slides", "qbr", "exec meeting", "execs", "leadership meeting",
              "quarter review", "quarterly review", "business review", "month-end review", "the review",
              "board meeting", "presentation", "1:1", "one on one", "team meeting", "weekly meeting",
              "monday meeting", "forecast call", "pipeline review", "digest", "monday digest", "weekly digest",
              "the digest", "the monday digest", "the weekly digest", "board pack", "the board pack", "board deck",
              "the board deck", "the board", "ประชุมคณะกรรมการ", "คณะกรรมการ", "บอร์ด")
CHAT_NOUNS_AFTER = ("meeting", "meetings", "call", "review", "board", "exec", "email", "report")
# the words before a chat noun that would mean something else alone ("my", "before"); chat words
# before those ("for the", "in the") are skipped anyway
CHAT_LEADS = ("", "my ", "before ", "before my ", "before the ", "before our ", "after ", "after my ",
              "after the ", "for my ", "in my ", "to my ")
# "my meetings" and "after calls" may be what is counted; "before my meeting" and "for the call" are not
CHAT_LEADS_AFTER = ("before ", "before my ", "before the ", "before our ", "after my ", "after the ", "for my ",
                    "for the ", "for our ", "for a ", "asking for the ", "asking for my ", "on the ", "in the ",
                    "for his ", "for her ", "his ", "her ",
                    "from the ")
# someone else wanting the figure: "my boss wants to know", "the vp asked"
ASKERS = ("boss", "manager", "vp", "ceo", "director", "head of sales", "team lead", "exec", "execs")
ASKER_VERBS = ("wants", "wants to know", "want to know", "asked", "asked me", "asks", "needs", "is asking",
               "was asking", "wanted", "wanted to know")
# one meeting named by its day ("the slides from yesterday's meeting") is an event, not a count of them
DAY_LEADS = ("yesterday's ", "yesterdays ", "today's ", "todays ", "tomorrow's ", "tomorrows ", "this morning's ",
             "last week's ", "monday's ", "friday's ")
CHAT_PHRASES = (
    *(f"{lead}{noun}" for lead in CHAT_LEADS for noun in CHAT_NOUNS),
    *(f"{lead}{noun}" for lead in DAY_LEADS for noun in ("meeting", "call", "review", *CHAT_NOUNS)),
    *(f"{noun} tomorrow" for noun in ("meeting", "call", "review", *CHAT_NOUNS)),  # "QBR tomorrow: …"
    "พรุ่งนี้ประชุม", "พรุ่งนี้มีประชุม", "พรุ่งนี้ประชุมรีวิว",
    # month-end chat: "chasing deals before month end", "with 12 days left in the month"
    *(f"{before} {end}" for before in ("before", "ahead of", "until") for end in
      ("month end", "month-end", "quarter end", "quarter-end", "year end", "year-end", "the close", "close")),
    "ช่วงปิดเดือน", "ช่วงปิดไตรมาส", "ช่วงสิ้นเดือน", "ช่วงปิดงบ",
    "chasing deals", "chasing my deals", "chasing the team", "they went to", "we went to", "they attended",
    # a newcomer saying so ("first time using this 👋"): not first-time customers
    *(f"{first} {using}" for first in ("first time", "my first time", "1st time")
      for using in ("using this", "using the bot", "using kpibot", "using it", "trying this", "trying the bot", "here")),
    "new here", "new to this", "just got access", "ใช้ครั้งแรก", "เพิ่งใช้ครั้งแรก", "เพิ่งเคยใช้", "ครั้งแรกที่ใช้",
    # "the trainings I went to": who went is the asker said elsewhere ("how did I rate")
    "i went to", "i attended", "attended", "ที่ไปเข้า", "ที่ผมไปเข้า", "ที่ไปอบรม",
    # how a breakdown is sorted: it always is, best first ("cheapest first")
    *(f"{how} first" for how in ("cheapest", "highest", "lowest", "best", "worst", "biggest", "smallest", "fastest",
                                 "slowest", "most expensive", "top")),
    "counting all", "counting", "buying",
    *(f"{lead}{noun}" for lead in CHAT_LEADS_AFTER for noun in (*CHAT_NOUNS, *CHAT_NOUNS_AFTER)),
    *(f"{lead}{who} {verb}" for lead in ("", "my ") for who in ASKERS for verb in ASKER_VERBS),
    *(f"{who}{verb}" for who in ("หัวหน้า", "บอส", "เจ้านาย", "นาย", "ผู้จัดการ", "ผจก.", "ผจก")
      for verb in ("ถาม", "ถามว่า", "อยากรู้", "อยากรู้ว่า", "อยากได้", "ขอ", "ให้ดู", "ให้หา")),
)
# Punctuation and symbols are skipped by the scanner itself (any character that is neither a
# letter nor a digit), emoji included.

# who asks, or for whom ("finance here", "เลขาคุณมาลีค่ะ"), and what for: never a filter or a KPI
WHO_ASKS = ("finance here", "finance team here", "finance asked me", "finance asked", "finance wants", "finance needs",
            "accounting here", "ar team", "hr here", "hr wants", "hr needs", "hr asked", "hr asked me", "hr team here", "enablement here", "cs team", "cs here",
            "marketing asked me", "marketing asked", "marketing here", "marketing wants", "sales ops here",
            "ceo's office", "the md asked", "the md wants", "prepping", "prepping for", "for the deck",
            "for my appraisal", "for his review", "for her review", "for my review", "for the review",
            "for the board", "finance review", "for finance review", "we'd", "i'd", "you'd", "they'd",
            "survey responses", "survey response",
            "ฝ่ายบุคคล", "ฝ่ายบุคคลค่ะ", "ฝ่ายบุคคลครับ", "ทีมการตลาด", "ฝ่ายการตลาด", "ทีมการตลาดค่ะ", "ทีมดูแลลูกค้า",
            "ฝ่ายบริการลูกค้า", "ฝ่ายดูแลลูกค้า", "ฝ่าย cs", "เลขา", "เลขาคุณ", "เลขาท่าน", "ท่านซีอีโอ", "ซีอีโอ", "ผู้บริหาร",
            "ผู้บริหารฝ่ายขาย", "ท่านผู้อำนวยการ", "ผู้อำนวยการ", "ผอ.", "น้องฝึกงาน", "เด็กฝึกงาน", "ฝึกงาน", "ปิดบัญชี",
            "นับให้หน่อยว่า", "นับให้หน่อย", "ที่ตั้งไว้", "ตั้งไว้", "ที่หัวหน้าให้มา", "หัวหน้าให้มา", "ที่ได้รับมา",
            "เข้ามาใหม่", "ไหลเป็น", "ไหล", "ก่อนจะขยับไปขั้นต่อไป", "ขยับไปขั้นต่อไป", "ก่อนจะขยับ", "ขยับ", "ในระบบ", "โอเคกับ", "ดูจาก",
            "หนึ่งเจ้า", "หนึ่งคน", "คนหนึ่ง", "หนึ่งดีล", "ดีลหนึ่ง", "บ่ายนี้", "ประชุมบ่ายนี้", "สำหรับประชุม",
            "ท่านจะใช้ในประชุม", "เพื่อใช้ในประชุม")
FILLER_TH = (
    "คะแนน",  # a score: without it "คะแนน" reads as the particle คะ and "แนน"
    "ขอ", "ขอดู", "ดู", "ขอทราบ", "ทราบ", "ใคร่", "ใคร่ขอ", "ใคร่ขอทราบ", "อยากรู้", "อยากทราบ", "อยากดู", "อยากได้", "ช่วย", "ช่วยดู",
    "ช่วยบอก", "บอก", "รบกวน", "แสดง", "เช็ค", "เช็ก", "เช็ค", "หน่อย", "ครับ", "คับ", "ครัช", "ค่ะ", "คะ", "ค่า",
    "จ้า", "จ้ะ", "จ๊ะ", "จ้าา", "นะ", "น่ะ", "น้า", "นะคะ", "นะครับ", "ฮะ", "ฮับ", "งับ", "อ่ะ", "อะ", "เนอะ",
    "มั้ย", "ไหม", "หรือเปล่า", "รึเปล่า", "ป่าว", "บ้าง", "เท่าไหร่", "เท่าไร", "เท่าไร่", "เท่าใด", "กี่",
    "ได้", "อยู่", "ที่", "มี", "เป็น", "คือ", "ยังไง", "อย่างไร", "เป็นไง", "เป็นยังไง", "เป็นอย่างไร", "ไง",
    "ของ", "ใน", "ช่วง", "ตอน", "ตอนนี้", "ขณะนี้", "ปัจจุบัน", "แล้ว", "ไป", "มา", "ทั้งหมด", "รวม",
    "ทั้งบริษัท", "บริษัท", "ของบริษัท", "เรา", "ของเรา", "พวกเรา", "ล่ะ", "ละ", "เลย", "ด้วย", "ครับผม",
    "สรุป", "ทั้ง", "และ", "ให้", "เอา", "สิ", "ซิ", "ๆ", "ประมาณ", "ตัวเลข", "ข้อมูล", "สถิติ", "ผล",
    "เฉลี่ย", "โดยเฉลี่ย", "เปอร์เซ็นต์", "เปอร์เซ็น", "ทำได้", "ทำ", "โอเค", "บอท", "หา", "จาก", "ใช้",
    "จำนวน", "เห็นใน", "เห็นว่า", "อ่าน", "ตามที่เห็นใน", "ตามที่เห็น", "บอกว่า", "ดูไม่ออก", "อ่านไม่ออก",
    "ต่อว่า", "อันนี้เลย", "อีกอัน", "ผ่านไป", "บ่น", "บ่นเยอะ", "อยากรู้มาก", "ป่ะ", "ปะ", "มั้ยป่ะ", "เดิน", "คิดเป็น", "ตรงกับ", "ยอดที่พยากรณ์ไว้", "ที่พยากรณ์ไว้", "อ่า", "เออ", "อะค่ะ", "อ่ะค่ะ", "อะครับ", "เทิร์นเป็น", "สำหรับ", "ทบทวน", "หนึ่งคน", "1 คน", "คนนึง", "จริง", "ที่ซื้อ", "1:1 กับ", "คุย 1:1 กับ", "ก่อนคุย 1:1 กับ", "เขา", "เค้า", "ของเขา", "ของเค้า", "ของน้อง", "เอง", "ก่อนคุย", "ก่อนคุยกับ", "เดี๋ยวจะคุยกับ",
    "จะคุยกับ", "คุยกับ", "ก่อนประชุมกับ", "ประชุมกับ", "ก่อนเจอ", "โค้ช", "จะได้โค้ช", "จะได้โค้ชก่อน", "โค้ชก่อน", "กว่าจะ", "ถึงจะ", "จน", "ขาดอีก", "กี่อัน", "ติด", "หรือยัง", "ยัง", "นี้", "นั้น", "ตก", "ลดลง", "ต่ำ", "เรียน", "เรียนผู้เกี่ยวข้อง", "เรียนทุกท่าน", "หน่อยดิ", "ดูดิ", "บอกดิ", "เด้อ", "เจ้า", "เน้อ", "หนิ", "น้อ", "ว่ะ", "แหละ", "เนาะ", "เป็นพรือ", "จัก",
    "ถึงยัง", "หาลูกค้า", "ยังไม่ทราบว่า", "ไม่ทราบว่า", "ยังไม่รู้ว่า", "ไม่รู้ว่า", "ภายในพรุ่งนี้",
    *(f"ภายใน{w}{d}{this}" for w in ("วัน", "") for d in ("จันทร์", "อังคาร", "พุธ", "พฤหัส", "พฤหัสบดี", "ศุกร์", "เสาร์")
      for this in ("นี้", "")),
    "ขี่มอไซค์อยู่", "จอดข้างทาง", "แป๊บ", "จำไม่ได้", "เครื่อง", "ดีปะ", "ดีป่ะ", "ดีไหม", "ดีมั้ย",
    "ดีมั๊ย", "ดีรึเปล่า", "ดีหรือเปล่า", "ดีหรือยัง", "ต้อง", "1 ราย", "1ราย", "หนึ่งราย", "เรื่อง", "ในเรื่อง", "ไหมคะ", "ได้ไหม", "ได้มั้ย", "กัน", "หรอ", "เหรอ",
    "จ๊ะ", "จ้ะ", "ค้าบ", "คร้าบ", "ขอบคุณ", "ขอบใจ", "ด่วน", "นิดนึง", "หน่อยนึง", "ว่า", "ทีครับ",
    "คุณ", "พี่", "น้อง", "เฮีย", "เจ๊", "นาย", "นางสาว", "นาง", "ท่าน", "ยัง", "โดย",
    "ขึ้น", "ลง", "ไปแล้ว", "มาแล้ว", "ได้แล้ว", "ประจำ", "ตัว", "ภาพรวม", "โดยรวม", "แค่ไหน", "เท่าไร",
    "มากแค่ไหน", "ทั้งองค์กร", "ของเดือน", "ของปี", "ของไตรมาส",
    "ถึงตอนนี้", "จนถึงตอนนี้", "ถึงปัจจุบัน", "จนถึงปัจจุบัน", "ถึงวันนี้", "จนถึงวันนี้",
    "จะ", "จะเอา", "เอาไป", "เอาไปใช้", "เข้ามา", "เยอะ", "เยอะไหม", "เยอะมั้ย", "ถาม", "ถามว่า", "อยากให้",
    # going into a meeting is why someone asks; ประชุม alone is the activity type that is counted
    "เข้าประชุม", "ที่ประชุม", "ก่อนประชุม", "หลังประชุม", "ไปประชุม", "ตอนประชุม", "สไลด์", "พรีเซนต์",
    "รายงาน", "ทำรายงาน", "ทำสไลด์", "ด่วนๆ", "ไม่ด่วน", "ตอนว่าง", "ว่างๆ", "ส่ง", "ส่งให้", "ให้หน่อย",
    # "ขอแบบแยกตามทีม" (the kind split by team), "ระบบ POS" (the POS system); การ makes a noun of the
    # verb after it (การประชุม, meeting; การแชร์, sharing): the verb says what is counted
    "แบบ", "ระบบ", "การ",
    # counts said with their classifier (ออเดอร์นึง, กี่ครั้ง), and verbs around them; not บาท, which says
    # the figure is money (ลีดละกี่บาท is the cost per lead, not the leads)
    "นึง", "ครั้ง", "กี่ครั้ง", "เพิ่งเริ่มใช้", "เพิ่งเริ่ม", "เพิ่งเข้ามาทำงานใหม่", "เพิ่งเข้ามาใหม่", "เพิ่งเข้ามา",
    "ทำงานใหม่", "เริ่มใช้วันแรก", "เริ่มใช้", "วันแรกที่ใช้", "สอบถาม", "ขอสอบถาม", "ขอโทษ", "ขอโทษนะคะ",
    "ขอโทษนะครับ", "ถ้าถามผิดที่", "ไม่แน่ใจว่า", "ไม่แน่ใจ", "หนึ่งราย", "มาหนึ่งราย", "ฉบับ", "กี่ฉบับ", "กำลัง", "รีวิวสิ้นไตรมาส", "รีวิวสิ้นเดือน", "ไม่กี่วัน", "อีกไม่กี่วัน", "จะสิ้นเดือนแล้ว", "ใกล้สิ้นเดือน",
    "จะสิ้นไตรมาสแล้ว", "ใกล้สิ้นไตรมาส", "ฝ่ายบัญชี", "ฝ่ายการเงิน", *WHO_ASKS, "กระทบยอด", "ปิดงบ", "เพื่อปิดงบ", "ช่วงโค้งสุดท้าย",
    "โค้งสุดท้ายของไตรมาส", "โค้งสุดท้ายของเดือน", "โค้งสุดท้าย", "รีวิว", "ประชุมรีวิว", "มั่ง", "เออ", "คิดเป็น", "อืม", "ถึงไหน", "ถึงไหนแล้ว", "ดีขึ้น", "แย่ลง", "ดีขึ้นไหม",
    "ดีขึ้นป่าว", "ดีขึ้นมั้ย", "เข้าไป", "ไหลผ่าน", "ถึงจะ", "เมื่อ", "ไว้", "ไว้ได้",
    "ก่อนเข้าประชุม", "หลังเข้าประชุม", "สัดส่วน", "กี่เปอร์เซ็นต์", "กี่เปอร์เซ็น", "กี่ %",
)
# Honorifics and the like before a name (คุณสมชาย, พี่ต้น, น้องนก, k.somchai, khun somchai)
HONORIFICS = ("khun", "k.", "p'", "n'", "mr", "mr.", "ms", "ms.", "mrs", "mrs.", "nong", "hia", "pee", "phi", "p.",
              "jae", "je", "jeh", "jay", "เฮีย", "เจ๊")

# Alone (or with chat words only) these ask for the usage.
GREETINGS = ("hi team", "hello team", "hey team", "hi all", "hello all", "hey all", "morning team", "dear team",
             "hi everyone", "hello everyone", "สวัสดีทีม", "hi", "hi there", "hello there", "hello", "hey", "hiya", "yo", "good morning", "morning", "สวัสดี", "สวัสดีครับ",
             "สวัสดีค่ะ", "หวัดดี", "ดีครับ", "ดีค่ะ")
# A letter pasted into /kpi opens with one of these and whom it greets, up to the first mark
# ("Hi team,", "Dear Sales Ops,", "เรียนทีมขาย /") ...
LETTER_OPENINGS = ("hi", "hello", "hey", "dear", "good morning", "good afternoon", "good evening", "greetings", "to",
                   "morning", "hi all", "hello all", "hi team", "เรียน", "สวัสดี", "สวัสดีครับ", "สวัสดีค่ะ", "ถึง")
# ... and closes with one of these, the signature after it ("Thanks, / Ton", "ขอแสดงความนับถือ / ปลา").
SIGNOFFS = ("thanks", "thank you", "thx", "many thanks", "cheers", "regards", "best regards", "kind regards",
            "warm regards", "best wishes", "best,", "appreciate it", "appreciate", "much appreciated", "sincerely",
            "yours", "ขอบคุณ", "ขอบพระคุณ", "ขอแสดงความนับถือ", "จึงเรียนมาเพื่อ", "ด้วยความเคารพ", "ขอบใจ")
HELP = ("help", "list", "kpis", "kpi list", "list kpis", "usage", "commands", "what can you do",
        "what can i ask", "options", "menu", "ช่วยเหลือ", "วิธีใช้", "รายการ", "รายการ kpi", "คำสั่ง",
        "ช่วยด้วย", "ใช้ยังไง", "ถามอะไรได้บ้าง", "ทำอะไรได้บ้าง", "ใช้บอทนี้ดูอะไรได้บ้าง", "บอทนี้ดูอะไรได้บ้าง",
        "ใช้บอทดูอะไรได้บ้าง", "ดูอะไรได้บ้าง", "เมนู", "how to use", "how do i use this",
        "how does this work", "ใช้งานยังไง", "ใช้งานอย่างไร", "ใช้อย่างไร", "วิธีใช้งาน",
        "what kind of questions", "what kind of questions can i ask", "what questions can i ask",
        "what kinds of questions", "what kinds of questions can i ask", "which metrics", "what metrics",
        "which metrics can you give me", "what metrics can you give me", "which kpis do you have", "what kpis do you have", "what kinds of questions can i ask you",
        "what kind of questions can i ask you", "what questions can i ask you", "what sort of questions",
        "what can i ask you", "what can you answer", "what can this bot answer", "what can the bot answer",
        "what can this bot do", "ใช้บอทยังไง", "ต้องพิมพ์อะไรถามบอทได้บ้าง", "พิมพ์อะไรถามบอทได้บ้าง", "ถามบอทได้บ้าง", "ถามบอทอะไรได้บ้าง", "สอนหน่อย", "สอนใช้หน่อย", "สอนใช้", "สอนที", "บอทใช้ยังไง", "ใช้บอทยังไงอ่ะ", "ต้องพิมพ์ยังไง", "พิมพ์ยังไง", "ถามยังไง", "ต้องถามยังไง",
        "ถามได้ยังไง", "ต้องพิมพ์อะไรบ้าง", "ต้องพิมพ์ไรบ้าง", "พิมพ์อะไรได้บ้าง", "พิมพ์ไรได้บ้าง",
        "ถามไรได้บ้าง", "รายชื่อ kpi", "ขอดูรายชื่อ kpi", "มี kpi อะไรบ้าง", "kpi อะไรบ้าง", "kpi ที่บอทตอบได้",
        "kpi ที่ตอบได้", "ตอบอะไรได้บ้าง", "ใช้ไงอ่ะ", "ใช้ไง", "what do i type", "what should i type", "what can i type")

# Never skipped, never corrected away: a question that excludes something cannot be answered as if it
# did not ("revenue not including smb" is not revenue), so these are asked back.
NEGATIONS = ("not", "no", "non", "excluding", "exclude", "except", "without", "other than", "minus", "besides",
             "ไม่", "ไม่รวม", "ยกเว้น", "นอกจาก", "ไม่เอา", "ไม่นับ", "ไม่ใช่", "หัก")
# Things people ask that are not KPIs here, each with what to ask instead (kpi_engine.grammar says it).
# how a KPI moved between two periods, as "whose … the most" ranks by it
_MOVED = ("improved", "improve", "improves", "went up", "go up", "gone up", "goes up", "grew", "grow", "grows",
          "rose", "rise", "rises", "increased", "increase", "jumped", "climbed", "gained", "declined", "decline",
          "dropped", "drop", "fell", "fall", "went down", "go down", "slipped", "slid", "worsened", "decreased",
          "shrank", "changed", "moved", "got better", "got worse", "is down", "are down", "is up", "are up",
          "was down", "was up", "down", "up", "increased", "improved on", "grew on")
EITHER_WAY = ("up or down", "go up or down", "gone up or down", "went up or down", "grew or shrank", "โตขึ้นหรือลดลง", "เพิ่มขึ้นหรือลดลง", "ขึ้นหรือลง", "โตหรือหด", "โตหรือลด")
UNSUPPORTED = {
    # a ratio to qualified leads: cost per lead divides by every lead created
    "qualified_cost": ("cost per qualified lead", "cost per sql", "cost per qualified", "ต้นทุนต่อ qualified lead",
                       "ต้นทุนต่อลีดที่ผ่านการคัดกรอง"),
    # where a figure will end up: answers are what happened, in periods that have started
    "projection": ("at the current pace", "at this pace", "at the current rate", "at this rate", "where will",
                   "will land", "will we end", "will we finish", "going to land", "on pace to", "run-rate to",
                   "projected", "projection", "projections", "extrapolate", "predict", "what will", "how much will",
                   "will it be", "will we be", "will we hit", "will we make", "จะปิดได้เท่าไหร่",
                   # "how many deals will I close in December", "are we going to hit plan"
                   *(f"{aux} {who} {verb}" for aux, whos in (("will", ("i", "we", "they", "my team", "our team",
                                                                       "the team", "he", "she")),
                                                            ("won't", ("i", "we", "they")))
                     for who in whos for verb in ("close", "win", "sell", "book", "make", "get", "land", "hit",
                                                  "reach", "end", "finish", "bring in", "generate", "do")),
                   *(f"{be} going to {verb}" for be in ("am i", "are we", "are they", "is the team")
                     for verb in ("close", "win", "sell", "make", "hit", "reach", "land", "end", "finish", "be")),
                   "จะปิดได้กี่", "จะขายได้เท่าไหร่", "จะขายได้กี่", "จะได้กี่ดีล",
                   "คาดว่าจะปิด", "คาดว่าจะได้", "ประมาณการว่าจะ", "จะจบที่",
                   # "ปีนี้ยอดจะถึงเป้าไหม": will it reach
                   "จะถึงเป้าไหม", "จะถึงเป้ามั้ย", "จะถึงเป้าหรือเปล่า", "จะเข้าเป้าไหม", "จะเข้าเป้ามั้ย",
                   "จะทำถึงเป้าไหม", "จะได้ตามเป้าไหม", "จะถึงไหม", "จะถึงมั้ย"),
    # ranking by how much a KPI moved: answers rank by the value in the period (revenue growth aside)
    "change_rank": ("most improved", "biggest improvement",
                    *(f"{verb} {most}" for verb in _MOVED for most in ("the most", "most", "the least", "least")),
                    *(f"{big} {move}" for big in ("biggest", "largest", "greatest", "sharpest")
                      for move in ("jump", "increase", "rise", "drop", "decline", "fall", "gain", "change", "move")),
                    *(f"{verb}{most}" for verb in ("ดีขึ้น", "พัฒนาขึ้น", "พัฒนา", "แย่ลง", "ตกลง", "ลดลง", "เพิ่มขึ้น", "ตก", "ลด", "เพิ่ม",
                                                   "ขึ้น", "โตขึ้น", "โต", "ร่วงลง", "ร่วง", "ดิ่งลง")
                      for most in ("มากที่สุด", "ที่สุด", "มากสุด", "เยอะที่สุด", "เยอะสุด", "แรงที่สุด", "แรงสุด"))),
    "lost": ("lost", "lose", "losses", "lost deals", "deals lost", "ดีลที่แพ้", "แพ้", "ดีลแพ้", "ดีลหลุด"),
    "open": ("open", "open deals", "open pipeline", "pipeline value", "ดีลที่ยังเปิด", "ดีลค้าง"),
    # a report sent by email or on a schedule ("email me this every monday"): the digest does that
    "schedule": ("email me", "e-mail me", "mail me", "email this", "email it", "send it every", "send this every",
                 *(f"every {d}" for d in ("monday", "tuesday", "wednesday", "thursday", "friday", "morning")),
                 "each morning", "ทางอีเมล", "ส่งทางอีเมล", "ส่งเข้าอีเมล", "ทุกวันจันทร์", "ทุกเช้า", "ส่งทุกวัน",
                 "ส่งทุกสัปดาห์"),  # not ส่งอีเมล alone: the e-mails a rep sent are counted
    # what activities cost: spend is kept by channel and period, not by activity ("ค่ากิจกรรมการขาย")
    "activity_cost": ("activity cost", "activity costs", "cost of activities", "cost of sales activities",
                      "ค่ากิจกรรม", "ค่ากิจกรรมการขาย", "ค่ากิจกรรมขาย", "ค่าใช้จ่ายกิจกรรม", "ต้นทุนกิจกรรม"),
    "profit": ("profit", "profits", "margin", "margins", "gross margin", "ebitda", "กำไร", "กำไรสุทธิ", "อัตรากำไร"),
}
# "monthly revenue", "revenue by week", "รายเดือน": a trend at that grain (the answer's chart)
TREND = {
    "day": ("daily", "by day", "per day", "each day", "day by day", "รายวัน", "แต่ละวัน", "ต่อวัน"),
    "week": ("weekly", "by week", "per week", "each week", "week by week", "รายสัปดาห์", "แต่ละสัปดาห์",
             "รายอาทิตย์", "รายวีค", "สัปดาห์ต่อสัปดาห์"),
    "month": ("monthly", "by month", "per month", "each month", "month by month", "รายเดือน", "แต่ละเดือน",
              "ต่อเดือน", "เดือนต่อเดือน"),
    "quarter": ("quarterly", "by quarter", "per quarter", "each quarter", "รายไตรมาส", "แต่ละไตรมาส",
                "ไตรมาสต่อไตรมาส"),
    "year": ("yearly", "annual", "annually", "by year", "per year", "each year", "รายปี", "แต่ละปี"),
}

# ---------------------------------------------------------------- "my"

# not "opened" or "created": the deals someone opened are not the ones closed (deals_closed)
WEAK_I_VERBS = ("got", "get", "received", "generated", "handled", "owned", "sourced", "brought", "landed", "signed",
                "gave", "give", "attended", "went to")
MINE_REP = ("my", "mine", "my own", "myself", "me myself", "assigned to me", "ของฉัน", "ของผม", "ของหนู", "ของดิฉัน",
            "ของกู", "ของตัวเอง", "ตัวเอง", "ของข้า", "ของชั้น", "ผม",
            "ฉัน", "หนู", "ดิฉัน",
            # "I" as the one who sold: "deals closed by me", "how am i doing", "what did i close"
            "by me", "am i", "how am i", "did i", "have i", "i'm doing", "im doing",
            *(f"i {verb}" for verb in ("win", "won", "close", "closed", "sell", "sold", "made", "make", "brought in",
                                       "bring in", "booked", "logged", "reached", "reach", "hit", "achieve",
                                       "achieved", "personally")),
            "me personally", "of me", "for me personally", "ที่ได้รับมอบหมายให้ผม", "ได้รับมอบหมายให้ผม",
            "มอบหมายให้ผม", "ที่ได้รับมอบหมายให้ฉัน", "ในพอร์ตผม", "ในพอร์ตหนู", "ในพอร์ตฉัน", "พอร์ตผม", "พอร์ตหนู", "take me", "takes me", "took me", "it take me")
MINE_TEAM = ("ลูกทีมเรา", "ลูกทีมของเรา", "ลูกทีมผม", "ลูกทีมของผม", "ลูกทีมฉัน", "ลูกทีมของฉัน", "ลูกทีมหนู", "ลูกน้องผม", "ลูกน้องในทีม",
             "my team", "my team's", "our team", "our team's", "my teams", "my squad", "our squad", "my crew", "ทีมเรา", "ทีมผม", "ทีมฉัน", "ในทีมผม",
             "ทีมหนู", "ทีมของฉัน", "ทีมของผม", "ทีมของเรา", "ทีมของหนู", "ทีมตัวเอง")

# ---------------------------------------------------------------- dimensions

DIM_WORDS_EN: dict[str, tuple[str, ...]] = {
    "rep": ("rep", "reps", "salesperson", "salespeople", "sales person", "sales people", "sales rep",
            "sales reps", "seller", "sellers", "person", "people", "account exec", "account execs",
            "account executive", "account executives", "ae", "aes", "performer", "performers",
            "salesman", "salesmen", "saleswoman", "individual", "individuals", "member", "members", "head", "heads"),
    "team": ("team", "teams", "squad", "squads"),
    "region": ("region", "regions", "area", "areas", "territory", "territories"),
    "channel": ("channel", "channels", "source", "sources", "lead source", "lead sources"),
    "product": ("product", "products", "product line", "product lines", "sku", "skus"),
    "segment": ("segment", "segments", "seg", "segs", "customer segment", "customer segments"),
    "stage": ("stage", "stages", "pipeline stage", "pipeline stages", "deal stage", "deal stages", "step", "steps",
              "pipeline step", "pipeline steps"),
    "type": ("type", "types", "activity type", "activity types"),
    "action": ("action", "actions"),
}
DIM_WORDS_TH: dict[str, tuple[str, ...]] = {
    "rep": ("ตัวแทนขาย", "เซลส์", "เซล", "เซลล์", "พนักงานขาย", "ตัวแทน", "คน", "พนง.ขาย", "พนักงาน"),
    "team": ("ทีม", "ทิม"),
    "region": ("ภูมิภาค", "ภาค", "เขต", "พื้นที่"),
    "channel": ("ช่องทาง", "แหล่งที่มา", "ที่มา"),
    "product": ("สินค้า", "ผลิตภัณฑ์", "โปรดักส์", "โปรดักต์", "โปรดัก"),
    "segment": ("กลุ่มลูกค้า", "กลุ่ม", "เซกเมนต์", "เซกเมนท์", "เซ็กเมนต์", "เซ็กเม้นท์"),
    "stage": ("ขั้นตอน", "สเตจ", "ขั้น", "ขั้นตอนการขาย"),
    "type": ("ประเภท", "ประเภทกิจกรรม"),
    "action": ("การกระทำ",),
}
# clipped forms read when typed ("csat by seg") but never offered for a typo: "by reg" is region or rep
DIM_SHORTHAND = frozenset(("seg", "segs"))
# Words for the people a segment is made of: "smb customers", "ลูกค้า sme" name the segment.
SEGMENT_CONTEXT = ("customer", "customers", "client", "clients", "account", "accounts", "ลูกค้า")
# Words for a group of colleagues: "the enterprise guys", "พวก smb" name a team, not a segment.
PEOPLE_WORDS = frozenset(("guys", "folks", "people", "crew", "squad", "gang", "lot", "พวก", "น้องๆ", "ทีมงาน"))
# English plurals ask for more than one row ("top reps" is a top 5, "top rep" the first)
PLURAL_DIM_WORDS = frozenset(w for words in DIM_WORDS_EN.values() for w in words if w.endswith("s")
                             or w in ("people", "salespeople", "sales people", "salesmen"))

BY_EN = ("by", "per", "split by", "split into", "broken into", "broken down into", "break down into", "broken down by", "breakdown by", "break down by", "grouped by",
         "group by", "across", "for each", "for every", "each", "every", "all", "by each", "per each",
         "across all", "across the")
BY_TH = ("แยกตาม", "ตาม", "แบ่งตาม", "แยก", "ราย", "แต่ละ", "ทุก", "แยกเป็น", "แบ่งเป็น", "จำแนกตาม", "ต่อ",
         "แยกตามราย")
# "which team", "ทีมไหน", "who": a breakdown by that dimension
WHICH_EN = ("which", "what", "which of the", "who", "whose", "who's", "whos")
WHICH_TH_AFTER = ("ไหน", "ใด", "อะไร")  # ทีมไหน, ภาคใด
WHO = ("who", "who's", "whos", "whose", "ใคร", "คนไหน", "คนใด")

# ---------------------------------------------------------------- rankings

RANK_BEST = ("furthest ahead", "farthest ahead", "most ahead", "closest to target", "closest to quota",
             "closest to making its number", "closest to making their number", "closest to hitting target",
             "closest to hitting quota", "nearest to target", "ใกล้เป้าที่สุด", "ใกล้เป้ามากที่สุด", "ใกล้ถึงเป้าที่สุด", "top", "number one", "the number one", "no. 1", "no 1", "#1", "best", "mvp", "the mvp", "leading", "strongest", "star", "ท็อป", "ท๊อป", "ทอป", "ดีที่สุด", "ดีสุด",
             "เก่งที่สุด", "เก่งสุด", "อันดับต้น", "อันดับต้นๆ", "อันดับแรก", "แรก", "เด่น")
RANK_WORST = ("furthest behind", "farthest behind", "most behind", "furthest from target", "farthest from target",
              "furthest from quota", "farthest from quota", "furthest from their number", "ห่างเป้ามากที่สุด", "ห่างเป้ามากสุด",
              "ห่างเป้าที่สุด", "ห่างจากเป้ามากที่สุด", "ห่างจากเป้าที่สุด", "ไกลเป้าที่สุด", "slacking", "slacking on", "slacking off", "furthest below", "farthest below", "most below", "bottom", "worst", "weakest", "lagging", "laggards", "แย่ที่สุด", "แย่สุด", "อันดับท้าย",
              "ท้ายสุด", "อันดับสุดท้าย", "สุดท้าย", "บ๊วย", "รั้งท้าย", "ท้าย")
RANK_HIGH = ("longest", "slowest", "most expensive", "priciest", "ยาวที่สุด", "ยาวสุด", "นานที่สุด", "นานสุด",
             "ช้าที่สุด", "ช้าสุด", "แพงที่สุด", "แพงสุด", "highest", "most", "biggest", "largest", "max", "maximum", "greatest", "มากที่สุด", "มากสุด",
             "สูงที่สุด", "สูงสุด", "เยอะที่สุด", "เยอะสุด", "มากกว่าใคร", "ที่สุด", "สุด")
RANK_LOW = ("shortest", "fastest", "quickest", "cheapest", "least expensive", "สั้นที่สุด", "สั้นสุด", "เล็กที่สุด",
            "เล็กสุด",
            "เร็วที่สุด", "เร็วสุด", "ถูกที่สุด", "ถูกสุด", "lowest", "least", "fewest", "smallest", "min", "minimum", "น้อยที่สุด", "น้อยสุด",
            "ต่ำที่สุด", "ต่ำสุด")
# ranking words that say the KPI is a time ("fastest" channel to qualify leads)
SPEED_RANKS = frozenset(("fastest", "quickest", "slowest", "longest", "shortest", "เร็วที่สุด", "เร็วสุด", "ช้าที่สุด",
                         "ช้าสุด", "นานที่สุด", "นานสุด"))
# and a cost ("most expensive channel per lead")
PRICE_RANKS = frozenset(("cheapest", "most expensive", "priciest", "least expensive", "ถูกที่สุด", "ถูกสุด",
                         "แพงที่สุด", "แพงสุด"))
RANK_LIST = ("ranking", "rankings", "rank", "ranked", "leaderboard", "leader board", "league table",
             "อันดับ", "จัดอันดับ", "ลำดับ", "เรียงลำดับ", "แรงกิ้ง", "ranks")
# "top"/"bottom" rank several rows ("top reps" is a top 5); "best"/"most" name the first
RANK_TOP_STYLE = ("top", "bottom", "ท็อป", "ท๊อป", "ทอป")
# a ranking with no dimension word names people: "leaderboard", "who … the most"
RANK_DEFAULT_N = 5

# ---------------------------------------------------------------- comparisons

VS_EN = ("vs", "vs.", "v", "v.", "versus", "compared to", "compared with", "compare to", "compare with",
         "compare", "comparing", "against", "relative to", "than", "measured against", "measured vs", "set against",
         "held against", "stacked against", "stack up against", "stacks up against")
# which way a comparison is asked ("more deals … than last week", "any lower than last year")
COMPARATIVES = frozenset(("more", "less", "fewer", "higher", "lower", "better", "worse", "bigger", "smaller",
                          "shorter", "longer", "faster", "slower", "greater", "larger", "up", "down"))
VS_TH = ("มากกว่าหรือน้อยกว่า", "น้อยกว่าหรือมากกว่า", "มากกว่า", "น้อยกว่า", "สูงกว่า", "ต่ำกว่า", "ดีกว่า", "แย่กว่า",
         "เร็วกว่า", "ช้ากว่า", "เยอะกว่า", "น้อยลงกว่า", "มากขึ้นกว่า", "ดีขึ้นกว่า", "เทียบ", "เทียบกับ", "เปรียบเทียบ", "เปรียบเทียบกับ", "เทียบกะ", "เทียบก้บ", "เมื่อเทียบกับ",
         "เทียบจาก", "กับ")
YOY = ("yoy", "y/y", "y-o-y", "year over year", "year-over-year", "year on year", "vs ly", "ly",
       "same period last year", "the same period last year", "same time last year", "a year ago",
       "a year earlier", "prior year", "the year before", "same month last year", "same quarter last year",
       "same week last year", "the same month last year", "the same quarter last year",
       "the same week last year", "this month last year", "this quarter last year", "this week last year",
       "same day last year", "ช่วงเดียวกันปีที่แล้ว", "ช่วงเดียวกันปีก่อน", "ช่วงเดียวกันของปีที่แล้ว",
       "เดือนเดียวกันปีที่แล้ว", "เดือนเดียวกันปีก่อน", "ไตรมาสเดียวกันปีที่แล้ว", "ไตรมาสเดียวกันปีก่อน",
       "ปีต่อปี", "same point last year", "the same point last year", "same point last fiscal year",
       "the same point last fiscal year", "same time last fiscal year", "the same quarter a year ago",
       "same quarter a year ago", "the same month a year ago", "same month a year ago", "the same period a year ago",
       "same period a year ago", "the same week a year ago", "ช่วงเดียวกันของปีงบที่แล้ว",
       "ช่วงเดียวกันปีงบที่แล้ว", "ช่วงเดียวกันของปีงบก่อน", "ลาสต์เยียร์", "ลาสเยียร์", "เมื่อเทียบกับปีที่แล้ว",
       # grown from last year: "จากปีที่แล้ว" alone may be a period ("ยอดขายจากปีที่แล้ว")
       "โตขึ้นจากปีที่แล้ว", "เติบโตขึ้นจากปีที่แล้ว", "เพิ่มขึ้นจากปีที่แล้ว", "โตขึ้นจากปีก่อน")
YOY += tuple(f"{unit}เดียวกัน{of}ปี{last}" for unit in ("สัปดาห์", "อาทิตย์", "วัน", "เดือน", "ไตรมาส", "ช่วง")
             for of in ("", "ของ") for last in ("ที่แล้ว", "ก่อน"))
# "same qtr last yr", "the same wk last fy": as people clip them on a phone
YOY += tuple(f"{the}same {unit} {last} {year}" for the in ("", "the ")
             for unit in ("qtr", "mo", "mth", "wk", "period", "time", "month", "quarter", "week", "day")
             for last in ("last", "prev") for year in ("yr", "year", "fy", "fiscal year"))
# "the same month a year earlier", "the same period of the prior year"
YOY += tuple(f"{the}same {unit} {a} year {ago}" for the in ("", "the ")
             for unit in ("period", "time", "month", "quarter", "week", "day") for a in ("a", "one")
             for ago in ("ago", "earlier", "before"))
YOY += tuple(f"{the}same {unit} {of} {the2}{prior} year" for the in ("", "the ")
             for unit in ("period", "time", "month", "quarter", "week") for of in ("of", "in")
             for the2 in ("", "the ") for prior in ("prior", "previous", "last"))
YOY += tuple(f"{the}same stretch {of}{last}" for the in ("", "the ") for of in ("", "of ", "in ")
             for last in ("last year", "the prior year", "the previous year", "prior year", "last fiscal year",
                          "the prior fiscal year", "the previous fiscal year"))
YOY += tuple(f"the same {n} {unit} last year" for n in range(2, 13) for unit in ("days", "weeks", "months"))
YOY = tuple(dict.fromkeys(YOY))
YOY_AFTER_VS = ("last year", "previous year", "ปีที่แล้ว", "ปีก่อน", "ปีที่ผ่านมา", "ปีก่อนหน้า", "ลาสต์เยียร์")
PREVIOUS = ("previous period", "prior period", "the period before", "last period", "the previous period",
            "the same days last week", "same days last week", "the same days last month", "same days last month",
            # "month-to-date vs the same point last month": the same days of the month before
            *(f"{the}same {when} last {unit}" for the in ("", "the ") for when in ("point", "time", "stage")
              for unit in ("week", "month", "quarter")),
            "ช่วงก่อน", "ช่วงก่อนหน้า", "ช่วงที่แล้ว", "ครั้งก่อน",
            # the same days of the period before: "ตั้งแต่ต้นเดือน เทียบช่วงเดียวกันเดือนที่แล้ว"
            *(f"ช่วงเดียวกัน{of}{unit}{last}" for of in ("", "ของ") for unit in ("เดือน", "สัปดาห์", "อาทิตย์", "ไตรมาส")
              for last in ("ที่แล้ว", "ก่อน")))
PREVIOUS_AFTER_VS = ("previous", "prev", "prior", "last", "before", "the previous", "ก่อนหน้า", "ก่อน")
# "mom", "qoq": compared with the previous month / quarter, which also sets the period
OVER_PERIOD = {
    "week": ("wow", "w/w", "week over week", "week-over-week", "week on week"),
    "month": ("mom", "m/m", "month over month", "month-over-month", "month on month"),
    "quarter": ("qoq", "q/q", "quarter over quarter", "quarter-over-quarter", "quarter on quarter"),
}
TARGET_EN = ("target", "targets", "quota", "quotas", "goal", "goals", "plan", "budget")
TARGET_TH = ("เป้า", "เป้าหมาย", "เป้ายอด")

CHART = ("chart", "charts", "graph", "graphs", "plot", "trend", "trends", "with chart", "with a chart",
         "visual", "กราฟ", "แผนภูมิ", "พร้อมกราฟ", "แสดงกราฟ", "เทรนด์", "แนวโน้ม")

# ---------------------------------------------------------------- topics: words that name a family of KPIs
# A topic word alone asks for the family's default KPI ("deals" -> deals closed); beside a KPI of its
# family it only repeats it ("rev growth", "time to qualify leads"); beside a KPI of another family
# the question names two things and is asked back.

TOPICS: dict[str, tuple[str | None, tuple[str, ...]]] = {
    # family: (default KPI or None, words)
    "revenue": ("revenue", ("revenue", "revenues", "rev", "sales", "sale", "sell", "sold", "selling", "sails", "รีเวนิว", "top line", "top-line",
                            "topline", "closed-won revenue", "closed won revenue",
                            "bookings", "booked", "turnover", "ยอดขาย", "ยอด", "รายได้", "รายรับ", "ขาย",
                            "ขายได้", "ยอดรวม", "ยอดเงิน", "ยอดขายรวม", "เงิน", "ยอดปิด", "ขายดี", "ขายเก่ง",
                            "best selling", "best-selling", "top selling")),
    "deals": ("deals_closed", ("deal", "deals", "opportunity", "opportunities", "opps", "opp", "oppty",
                               "close", "closed", "closes", "closing", "win", "won", "wins", "ดีล", "ปิด", "contract", "contracts",
                               "signed contracts", "win business", "won business", "decided", "decided deals", "come out on top", "came out on top",
                               "ตกลงซื้อ", "ลูกค้าตกลงซื้อ", "ทั้งได้ทั้งเสีย", "ได้ข้อสรุป", "ปิดการขายได้",
                               "ปิดได้", "ชนะ", "ได้ดีล", "โอกาสการขาย", "ดีลที่จบ", "ดีลที่จบไปแล้ว", "จบดีล")),
    "pipeline": ("pipeline_velocity", ("pipeline", "pipe", "ท่อการขาย", "baht per day", "บาทต่อวัน", "วันละกี่บาท",
                                       "คิดเป็นบาทต่อวัน", "ไปป์ไลน์", "ไพพ์ไลน์", "ไปป์ไลน์")),
    "leads": ("lead_volume", ("lead", "leads", "leds", "ลีด", "ลีดส์", "ลีดเข้า", "ลีดเข้ามา", "enquiry", "enquiries", "inquiry", "inquiries",
                               "new enquiries", "new enquiry", "รายชื่อผู้สนใจ", "ผู้สนใจ", "รายชื่อลูกค้าที่สนใจ",
                               "ลูกค้าที่สนใจ", "ตั้งแต่ลีด", "ตั้งแต่ได้ลีด", "หนึ่งลีด", "ลีดนึง", "mql", "mqls", "prospects", "prospect")),
    "qualified": (None, ("qualified", "qualify", "qualification", "sql", "sqls", "sales-qualified", "sales qualified", "became qualified", "being qualified",
                         "become qualified", "becomes qualified", "becoming qualified", "คัดกรอง", "ผ่านการคัดกรอง", "ควอลิฟาย", "ควอลิฟายด์")),
    # leads turned into qualified ones: "which channel converts leads best", "เปลี่ยนลีดเป็น qualified"
    "conversion": ("lead_conversion", ("convert", "converts", "converted", "converting", "คอนเวิร์ต", "คอนเวิร์ท",
                                       "คอนเวิร์ส", "turn into", "turns into",
                                       "turned into", "เปลี่ยน", "เปลี่ยนเป็น", "แปลง", "แปลงเป็น", "กลายเป็น",
                                       "กลาย")),
    "customers": (None, ("customer", "customers", "client", "clients", "account", "accounts", "buyer", "buyers",
                         "ลูกค้า", "ผู้ซื้อ", "ลูกค้าเก่า", "ลูกค้าเดิม", "new customer", "new customers", "ลูกค้าใหม่", "acquire", "acquiring",
                         "acquisition", "win a new customer", "win each new customer", "win new customers",
                         "to win a customer", "to win each customer", "land a new logo", "land each new logo", "land new logos",
                         "to land each new logo", "to land a new logo", "new logo", "new logos", "logo", "logos", "bought from us",
                         "buy from us", "ที่ซื้อกับเรา", "ซื้อกับเรา", "หาลูกค้าใหม่", "หาลูกค้าใหม่ได้", "for the first time",
                         "first time", "first-time", "first-time buyers", "first time buyers",
                         "newly acquired customer", "newly acquired customers", "newly won customer", "brand-new client",
                         "brand-new clients", "brand new client", "brand new clients", "existing accounts",
                         "existing customers", "existing clients", "คนที่ซื้อของเรา",
                         "newly won customers")),
    "costs": (None, ("cost", "costs", "spend", "spending", "spent", "expense", "expenses", "ต้นทุน",
                     "ค่าใช้จ่าย", "งบ", "ใช้จ่าย", "ใช้เงิน", "เสียเงิน", "ลงทุน", "ลงทุนไป", "ต้องลงทุน", "งบการตลาด", "sales and marketing spend",
                     "sales and marketing costs", "sales & marketing spend", "s&m spend", "marketing and sales spend",
                     "cost us to win", "cost to win", "costs to win",
                     "marketing and sales costs", "marketing & sales spend", "จ่าย", "pay", "paying", "paid", "marketing cost",
                     "marketing costs", "marketing spend", "ad spend", "ค่าการตลาด", "ค่าโฆษณา", "marketing money",
                     "money spent", "money we spent")),
    # time to close a deal unless the rest says otherwise (a stage: time in stage; leads: to qualify)
    "time": ("sales_cycle", ("time", "duration", "average age", "age of", "gap between", "average gap", "days", "days spent", "days deals spend", "deals spend", "time spent", "hours spent", "how long",
                             "how many days", "how fast", "how quickly",
                             "fast", "quickly", "speed", "ระยะเวลา", "เวลา", "ใช้เวลา", "กี่วัน", "นานแค่ไหน", "นาน",
                             "เร็วแค่ไหน", "เร็ว",
                             # "ไปป์ไลน์วิ่งเร็วแค่ไหน": how fast it runs (วิ่ง alone is no word here: "ใครวิ่งเยอะสุด")
                             "วิ่งเร็วแค่ไหน", "วิ่งเร็วเท่าไหร่", "วิ่งเร็ว")),
    "growth": ("revenue_growth", ("grow", "grew", "growing", "grown", "เติบโต", "โต", "โตขึ้น",
                                  "เพิ่มขึ้น", "percent change", "% change", "percentage change", *EITHER_WAY)),
    "forecast": (None, ("accurate", "forecasted", "forecasting", "predicted", "prediction", "แม่น", "แม่นยำ", "พลาดไปแค่ไหน",
                        "พลาด",
                        "what we really closed", "what we actually closed", "what we actually sold", "what we really sold",
                        "what actually got booked", "what actually closed", "what we actually booked",
                        "พยากรณ์", "คาดการณ์", "ตรงแค่ไหน", "คาดไว้", "ที่คาดไว้", "ตรงกับยอดจริง", "how far off", "far off", "off by", "missed by", "คลาดเคลื่อน", "พลาดเป้าพยากรณ์")),
    # how happy customers are
    "satisfaction": ("csat", ("happy", "happiest", "unhappy", "satisfied", "dissatisfied", "surveyed customers", "surveys", "survey answers", "คะแนนแบบสอบถาม", "พอใจ", "แฮปปี้", "ตอบแบบสอบถาม",
                                 "ที่ตอบแบบสอบถาม", "แบบสอบถาม")),
    # how big a deal or an order is: "how big are our deals on average", "ดีลนึงมูลค่าเท่าไหร่"
    "size": (None, ("big", "size", "sized", "large", "ใหญ่", "ขนาด", "per deal", "each deal", "ดีลละ", "ต่อดีล",
                    "average value", "avg value", "mean value", "typical value",
                    "ticket size", "mean ticket size", "average ticket", "value of one", "value of each",
                    "how much is one", "how much is each", "how much is a single", "ก้อนใหญ่", "ก้อน",
                    "per order", "each order", "ครั้งละ", "ต่อครั้ง", "ออเดอร์ละ")),
    # customers kept, and customers who buy again
    "retain": ("retention", ("keep", "kept", "retain", "retained", "retaining", "hold on to", "held on to", "รักษา",
                             "ยังอยู่กับเรา", "อยู่กับเรา", "ยังอยู่กี่", "still active", "stayed active", "remained active",
                             "still with us", "เก็บลูกค้าเดิมไว้", "เก็บลูกค้าไว้", "เก็บลูกค้า", "stick around", "stuck around", "stick with us",
                             "stayed with us", "stay with us")),
    "repeat": ("repeat_rate", ("came back", "come back", "coming back", "comes back", "buy again", "bought again",
                               "returning", "returning customer", "returning buyers", "returning buyer",
                               "another purchase", "ซื้ออีก", "เคยซื้อกับเรามาก่อน", "เคยซื้อกับเรา", "ขาประจำ", "ลูกค้าขาประจำ", "bought from us before", "bought before", "had bought from us before", "had bought before",
                               "had bought", "purchased before", "bought from us again", "ordered before",
                               "เคยซื้อ", "เคยซื้อแล้ว", "เคยซื้อมาก่อน")),
    # said of customers, two KPIs fit and the bot asks which: kept (retention) or buying again (repeat rate)
    "loyal": (None, ("loyal", "loyalty", "ภักดี", "ความภักดี")),
    # said of the time to win, two KPIs fit: from the deal's opening (sales cycle) or the lead's (time to close)
    "end_to_end": (None, ("start to finish", "from start to finish", "end to end", "end-to-end")),
    # how much the reps do
    "activity": ("rep_activity", ("busy", "ยุ่ง", "ขยัน", "touches", "customer touches", "touchpoints", "outreach",
                                  "ติดต่อลูกค้า")),
    # a figure in money, whichever it is: the other words say (kpi_engine.grammar._families)
    "money": (None, ("บาท", "กี่บาท", "baht", "how many baht", "money")),
    "orders": (None, ("order", "orders", "ออเดอร์", "คำสั่งซื้อ", "basket", "สั่งซื้อ", "การสั่งซื้อ", "purchase order",
                      "purchase orders", "ใบสั่งซื้อ", "สั่งของ")),
    "target": ("target_attainment", ("above or below quota", "above or below target", "above quota", "below quota",
                                     "above target", "below target", "over quota", "under quota", "on target",
                                     "on track", "hit target", "hit quota", "hitting quota",
                                     "on pace for", "behind pace for", "ahead of pace for", "hit my number",
                                     "assigned number", "assigned target", "assigned quota", "their assigned number",
                                     "the number we were given", "sales number we were given",
                                     "hit our number", "make my number", "make our number", "hitting my number",
                                     "hit their target", "hit its target", "hit our target", "hit the target",
                                     "hit their quota", "hit our quota", "hit my target", "hit my quota",
                                     "hitting target", "hitting their target", "make quota", "made quota",
                                     "behind target", "ahead of target", "behind quota", "ahead of quota",
                                     "ahead of or behind target", "ahead or behind target", "ahead of or behind quota",
                                     "ahead or behind quota", "behind or ahead of target", "behind or ahead of quota",
                                     "ถึงเป้า", "เข้าเป้า", "ตามเป้า", "target", "targets", "goal", "goals")),
}
# which families each KPI belongs to (a topic word beside a KPI of its family repeats it)
FAMILIES: dict[str, tuple[str, ...]] = {
    "revenue": ("revenue",),
    "revenue_growth": ("revenue", "growth"),
    "target_attainment": ("revenue", "target"),
    "avg_deal_size": ("deals", "revenue", "size"),
    "deals_closed": ("deals",),
    "win_rate": ("deals",),
    "sales_cycle": ("deals", "time", "end_to_end"),
    "lead_conversion": ("leads", "qualified", "conversion"),
    "pipeline_velocity": ("pipeline", "time"),
    "lead_to_qualified_time": ("leads", "qualified", "time"),
    "revenue_per_rep": ("revenue",),
    "rep_activity": ("activity",),
    "cac": ("customers", "costs"),
    "retention": ("customers", "retain", "loyal"),
    "aov": ("orders", "revenue", "customers", "size"),
    "forecast_accuracy": ("forecast", "revenue"),
    "lead_volume": ("leads",),
    "cost_per_lead": ("leads", "costs"),
    "stage_duration": ("deals", "time"),
    "csat": ("customers", "satisfaction"),
    "repeat_rate": ("customers", "orders", "repeat", "loyal"),
    "time_to_close": ("deals", "leads", "time", "end_to_end"),
    "training_effectiveness": (),
    "content_engagement": (),
}
# KPIs that are per active rep already: "per rep" after them is part of the name, not a breakdown
# a KPI named by its opposite: ranking words turn around ("churned the most" is the lowest retention)
INVERSE_WORDS = {"retention": ("churn", "สูญเสีย", "หลุดมือ")}
# KPIs that are a speed, where "slowest" is the lowest (for a time it is the highest)
SPEED_KPIS = ("pipeline_velocity", "revenue_growth")  # "โตเร็วที่สุด", "fastest growing": the most growth
PER_REP_KPIS = ("rep_activity", "revenue_per_rep", "content_engagement")
# KPIs the reps themselves give: "how did the reps rate the training" is about the reps, not by rep
RATED_BY_REPS = ("training_effectiveness",)

# ---------------------------------------------------------------- periods said in words

UNIT_WORDS: dict[str, tuple[str, ...]] = {
    "day": ("day", "days", "d", "วัน"),
    "week": ("week", "weeks", "wk", "wks", "w", "สัปดาห์", "อาทิตย์", "วีค"),
    "month": ("month", "months", "mo", "mos", "mth", "mths", "mon", "m", "เดือน"),
    "quarter": ("quarter", "quarters", "qtr", "qtrs", "q", "ไตรมาส", "ควอเตอร์"),
    "half": ("half", "halves", "half year", "half-year", "ครึ่งปี"),
    "year": ("year", "years", "yr", "yrs", "y", "ปี"),
    "fiscal_year": ("fiscal year", "fiscal yr", "fy", "financial year", "ปีงบ", "ปีงบประมาณ", "ปีบัญชี"),
}
THIS_EN = ("this", "current", "the current", "this current")
LAST_EN = ("last", "previous", "prev", "prior", "the last", "the previous", "the prior")
NEXT_EN = ("next", "the next", "upcoming", "coming", "the coming")
ROLLING_EN = ("last", "past", "previous", "prev", "trailing", "the last", "the past", "rolling", "over the last",
              "over the past", "in the last", "in the past", "within the last")
THIS_TH = ("นี้",)
LAST_TH = ("ที่แล้ว", "ก่อน", "ที่ผ่านมา", "ก่อนหน้า", "ที่แล้วนี้", "ก่อนๆ")
NEXT_TH = ("หน้า", "ถัดไป", "ต่อไป", "ที่จะถึง")
