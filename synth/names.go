package synth

// The vocabulary of the synthetic graph: countries and their weights, company and place
// name stems, person names, stages and materials. Everything here is fixed data; the
// generator only ever indexes into it.

// country is one Country entity and the weights that skew where things are.
type country struct {
	code, name string
	// suffix is the legal-form suffix of company names registered there.
	suffix string
	// stems are company-name and place-name stems; zh holds the Chinese forms (CN only).
	stems, zh []string
	// company weighs where pyramids (and persons) are based.
	company int
	// stage weighs where facilities of each stage are, in stage order.
	stage [numStages]int
}

// countries are the Country entities, in emission order. The weights put about 45 % of
// companies in CN, and most separation and magnet plants there.
var countries = []country{
	{code: "CN", name: "China", suffix: "Co., Ltd.", company: 45,
		stems: []string{"Zhaobao", "Jinhua", "Hengtai", "Xinyuan", "Huarui", "Tianhe", "Dongfang", "Changsheng", "Longxin", "Ruiyang", "Fengyuan", "Baoli", "Zhongke", "Anhua", "Yongxing", "Haoxiang"},
		zh:    []string{"兆宝", "金华", "恒泰", "鑫源", "华瑞", "天河", "东方", "长盛", "隆鑫", "瑞阳", "丰源", "宝利", "中科", "安华", "永兴", "浩翔"},
		stage: [numStages]int{40, 85, 80, 88, 50, 35}},
	{code: "US", name: "United States", suffix: "Inc.", company: 12,
		stems: []string{"Liberty", "Summit", "Pioneer", "Blue Ridge", "Granite Peak", "Lakeshore", "Red Mesa", "Sierra Vista"},
		stage: [numStages]int{10, 3, 4, 2, 10, 20}},
	{code: "AU", name: "Australia", suffix: "Pty Ltd", company: 8,
		stems: []string{"Southern Cross", "Outback", "Coral Bay", "Kimberley", "Pilbara Star", "Nullarbor"},
		stage: [numStages]int{15, 1, 0, 0, 0, 0}},
	{code: "JP", name: "Japan", suffix: "Co., Ltd.", company: 8,
		stems: []string{"Hoshino", "Kitagawa", "Sakura", "Fujimura", "Yamato", "Asahina"},
		stage: [numStages]int{0, 2, 6, 6, 12, 12}},
	{code: "DE", name: "Germany", suffix: "GmbH", company: 5,
		stems: []string{"Rheinland", "Bergmann", "Nordwerk", "Schwarzwald", "Elbtal", "Ruhrmetall"},
		stage: [numStages]int{0, 0, 0, 2, 12, 15}},
	{code: "KR", name: "Republic of Korea", suffix: "Co., Ltd.", company: 4,
		stems: []string{"Hanbit", "Daehan", "Seorin", "Mirae", "Hanul"},
		stage: [numStages]int{0, 0, 2, 1, 8, 8}},
	{code: "MY", name: "Malaysia", suffix: "Sdn. Bhd.", company: 3,
		stems: []string{"Kuantan", "Seri Mutiara", "Bunga Raya", "Pahang Jaya"},
		stage: [numStages]int{3, 6, 0, 0, 0, 0}},
	{code: "VN", name: "Viet Nam", suffix: "JSC", company: 3,
		stems: []string{"Song Hong", "Lac Viet", "Hoang Long", "Thang Long"},
		stage: [numStages]int{6, 0, 6, 1, 0, 0}},
	{code: "FR", name: "France", suffix: "SAS", company: 2,
		stems: []string{"Lumière", "Beaulieu", "Rochelle", "Val-de-Loire"},
		stage: [numStages]int{0, 2, 0, 0, 4, 5}},
	{code: "GB", name: "United Kingdom", suffix: "Ltd", company: 2,
		stems: []string{"Albion", "Pennine", "Thames Valley"},
		stage: [numStages]int{0, 0, 2, 0, 0, 5}},
	{code: "CA", name: "Canada", suffix: "Corp.", company: 2,
		stems: []string{"Maple Leaf", "Laurentian", "Athabasca"},
		stage: [numStages]int{5, 1, 0, 0, 0, 0}},
	{code: "IN", name: "India", suffix: "Pvt. Ltd.", company: 2,
		stems: []string{"Ganga", "Deccan", "Kaveri"},
		stage: [numStages]int{5, 0, 0, 0, 0, 0}},
	{code: "EE", name: "Estonia", suffix: "OÜ", company: 1,
		stems: []string{"Sillamäe", "Narva", "Virumaa"},
		stage: [numStages]int{0, 2, 0, 0, 0, 0}},
	{code: "BR", name: "Brazil", suffix: "Ltda.", company: 1,
		stems: []string{"Araxá Verde", "Serra Azul", "Minas"},
		stage: [numStages]int{6, 0, 0, 0, 0, 0}},
	{code: "TH", name: "Thailand", suffix: "Co., Ltd.", company: 1,
		stems: []string{"Chao Phraya", "Siam", "Lanna"},
		stage: [numStages]int{0, 0, 0, 0, 4, 0}},
	{code: "MN", name: "Mongolia", suffix: "LLC", company: 1,
		stems: []string{"Khangai", "Altai", "Gobi Star"},
		stage: [numStages]int{5, 0, 0, 0, 0, 0}},
}

const cn = 0 // index of CN in countries

// cnCities are the place names of Chinese facilities, with their Chinese forms.
var (
	cnCities   = []string{"Baotou", "Ganzhou", "Ningbo", "Xiamen", "Longnan", "Changting", "Leshan", "Liangshan", "Baiyin", "Taiyuan", "Shenzhen", "Changzhou"}
	cnCitiesZh = []string{"包头", "赣州", "宁波", "厦门", "龙南", "长汀", "乐山", "凉山", "白银", "太原", "深圳", "常州"}
)

// industries are the middle words of company names; the first three are holding words,
// which top-level companies favour.
var (
	industries   = []string{"Holdings", "Investment", "Group", "Magnetics", "Rare Earth", "New Materials", "Metals", "Mining", "Motor", "Technology", "Resources", "Industrial"}
	industriesZh = []string{"控股", "投资", "集团", "磁材", "稀土", "新材料", "金属", "矿业", "电机", "科技", "资源", "实业"}
)

const holdingWords = 3

// Person names: CN names have Chinese aliases; the others are grouped by region.
var (
	cnSurnames   = []string{"Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Zhao", "Huang", "Zhou", "Wu"}
	cnSurnamesZh = []string{"王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"}
	cnGiven      = []string{"Wei", "Fang", "Min", "Jing", "Lei", "Jun", "Yang", "Yong", "Yan", "Jie"}
	cnGivenZh    = []string{"伟", "芳", "敏", "静", "磊", "军", "洋", "勇", "艳", "杰"}
	jpSurnames   = []string{"Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito"}
	jpGiven      = []string{"Hiroshi", "Yuki", "Kenji", "Aiko", "Takeshi", "Naomi"}
	krSurnames   = []string{"Kim", "Lee", "Park", "Choi", "Jung"}
	krGiven      = []string{"Min-jun", "Seo-yeon", "Ji-ho", "Ha-eun", "Do-yun"}
	otherSurname = []string{"Smith", "Müller", "Martin", "Tamm", "Brown", "Wilson", "Schmidt", "Dubois", "Nguyen", "Silva", "Kaur", "Tremblay"}
	otherGiven   = []string{"James", "Anna", "Thomas", "Sophie", "Lukas", "Emma", "Oliver", "Marie", "Linh", "João", "Priya", "Chloé"}
)

// cnProvinces name the provincial state-asset commissions of CN after the national one.
var (
	cnProvinces   = []string{"Inner Mongolia", "Jiangxi", "Guangdong", "Fujian", "Sichuan", "Shandong", "Zhejiang", "Jiangsu", "Hunan", "Guangxi", "Yunnan", "Shanxi"}
	cnProvincesZh = []string{"内蒙古自治区", "江西省", "广东省", "福建省", "四川省", "山东省", "浙江省", "江苏省", "湖南省", "广西壮族自治区", "云南省", "山西省"}
)

// Stages of the value chain, upstream first. SUPPLIES run from stage s to stage s+1,
// except recycling, which runs from magnet back to separation.
const (
	stageMine = iota
	stageSeparation
	stageMetalAlloy
	stageMagnet
	stageMotor
	stageEndUse
	numStages
)

// stage describes one stage of the value chain.
type stage struct {
	name string // the "stage" property and the middle of facility ids
	// noun and nounZh end facility names.
	noun, nounZh string
	// share is the fraction of facilities at this stage, in per cent.
	share int
	// capacity is the typical capacityTpa of a facility.
	capacity int
	// input is the volumeTpa of a typical supply into a facility of this stage.
	input int
}

var stages = [numStages]stage{
	{"mine", "Rare Earth Mine", "稀土矿", 10, 20000, 0},
	{"separation", "Separation Plant", "分离厂", 12, 5000, 3000},
	{"metal-alloy", "Metal and Alloy Works", "金属合金厂", 15, 3000, 600},
	{"magnet", "Magnet Plant", "磁材厂", 20, 2000, 500},
	{"motor", "Motor Factory", "电机厂", 20, 1500, 400},
	{"end-use", "EV Assembly Plant", "整车厂", 23, 3000, 800},
}

// Materials, one Material entity each. inputMaterial[s] is what facilities of stage s
// receive (the metal-alloy to magnet step carries either NdPr metal or NdFeB alloy).
const (
	matConcentrate = iota
	matOxide
	matMetal
	matAlloy
	matMagnet
	matMotor
	numMaterials
)

var materials = [numMaterials]struct{ slug, name string }{
	{"rare-earth-concentrate", "Rare earth concentrate"},
	{"ndpr-oxide", "NdPr oxide"},
	{"ndpr-metal", "NdPr metal"},
	{"ndfeb-alloy", "NdFeB alloy"},
	{"ndfeb-magnet", "Sintered NdFeB magnet"},
	{"traction-motor", "Traction motor"},
}

// Source categories: every record cites a source of the category that fits it.
const (
	srcRegistry = iota // ownership, companies, persons, governments
	srcTrade           // supplies
	srcSurvey          // facilities and who operates them
	srcReport          // countries, materials
	numSourceKinds
)

var sourceKinds = [numSourceKinds]struct{ title, publisher string }{
	{"Synthetic corporate registry extract", "Lodestone Synthetic Registry"},
	{"Synthetic customs and trade statistics", "Lodestone Synthetic Trade Data"},
	{"Synthetic facility survey", "Lodestone Synthetic Facility Survey"},
	{"Synthetic market report", "Lodestone Synthetic Research"},
}

// tickerExchange is the exchange prefix of tickers by country code; countries without one
// get no tickers.
var tickerExchange = map[string]string{
	"CN": "SSE", "US": "NASDAQ", "AU": "ASX", "JP": "TSE", "DE": "XETRA", "KR": "KRX", "FR": "EPA", "GB": "LSE", "CA": "TSX",
}
